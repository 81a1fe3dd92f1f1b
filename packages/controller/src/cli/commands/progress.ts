import type { Command } from 'commander';
import type { LibraryProgress } from '../../jobs/job-control.js';
import { createDaemonAction } from '../command-action.js';
import { formatTable } from '../output.js';

export function registerProgress(program: Command): void {
  program
    .command('progress')
    .description(
      'what is left across runs: Sonic and media analysis per library section, the runs so far, and an estimate of the runs, hours and euros to finish',
    )
    .option('--json', 'print JSON')
    .action(
      createDaemonAction<{ json?: boolean }>(async (client, { output }) => {
        const progress = await client.jobs.progress.query();
        if (output.json) return output.printJson(progress);
        output.result(formatProgress(progress));
      }),
    );
}

/** The human view: sections, then the runs (newest first), then what is left and the estimate. */
function formatProgress(progress: LibraryProgress): string {
  const lines = [`library ${progress.library}`];
  if (progress.sections.length === 0) lines.push('No library sections.');
  else {
    const names = [...new Set(progress.sections.flatMap((s) => s.analyses.map((a) => a.name)))];
    lines.push(
      formatTable([
        ['section', 'type', 'Sonic', ...names],
        ...progress.sections.map((s) => [
          s.title,
          s.type,
          s.sonic ? doneOf(s.sonic.analyzed, s.sonic.total) : '',
          ...names.map((name) => {
            const analysis = s.analyses.find((a) => a.name === name);
            return analysis ? doneOf(analysis.done, analysis.total) : '';
          }),
        ]),
      ]),
    );
  }
  lines.push('');
  if (progress.runs.length === 0) lines.push('No runs yet.');
  else
    lines.push(
      formatTable([
        ['run', 'started', 'hours', 'cost', 'tracks', 'outcome'],
        ...progress.runs.map((r) => [
          r.jobId,
          formatStart(r.startedAt),
          r.hours === undefined ? '' : r.hours.toFixed(2),
          r.cost === undefined ? '' : `${r.cost.toFixed(2)} €`,
          r.tracksDone === undefined ? '' : number(r.tracksDone),
          r.schedule ? `${r.outcome} (schedule ${r.schedule})` : r.outcome,
        ]),
      ]),
    );
  lines.push('');
  const { tracks, analyses } = progress.remaining;
  if (progress.complete) lines.push(`complete: nothing left that a run would do${tracks + analyses > 0 ? ` (${leftOf(progress)}, not done by the runs)` : ''}`);
  else lines.push(`left: ${leftOf(progress)}`);
  const { estimate } = progress;
  if (estimate)
    lines.push(
      `estimate: ${estimate.runs} more ${estimate.runs === 1 ? 'run' : 'runs'}, ${estimate.hours} h, ${estimate.euros.toFixed(2)} € (${estimate.basis})`,
    );
  else if (!progress.complete && tracks > 0) lines.push('estimate: none yet (no run has measured a Sonic rate)');
  return lines.join('\n');
}

function leftOf({ remaining, sections }: LibraryProgress): string {
  const analyses = [...new Set(sections.flatMap((s) => s.analyses.map((a) => a.name)))].join(', ') || 'other analyses';
  return `${number(remaining.tracks)} Sonic ${remaining.tracks === 1 ? 'track' : 'tracks'}, ${number(remaining.analyses)} ${remaining.analyses === 1 ? 'item' : 'items'} of ${analyses}`;
}

function doneOf(done: number, total: number): string {
  const percent = total > 0 ? Math.floor((1000 * done) / total) / 10 : 100;
  return `${number(done)} of ${number(total)} (${percent.toFixed(1)} %)`;
}

/** Local time to the minute: when the run started. */
function formatStart(ms: number): string {
  const at = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} ${two(at.getHours())}:${two(at.getMinutes())}`;
}

function number(value: number): string {
  return value.toLocaleString('en-US');
}
