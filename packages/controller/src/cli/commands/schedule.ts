import type { Command } from 'commander';
import type { ScheduleEntryView } from '../../jobs/job-control.js';
import { createDaemonAction } from '../command-action.js';
import { formatAge, printList } from '../output.js';

export function registerSchedule(program: Command): void {
  program
    .command('schedule')
    .description("the scheduled bursts of the config's `schedule`: each entry's cron, window, next start and last outcome")
    .option('--json', 'print JSON')
    .action(
      createDaemonAction<{ json?: boolean }>(async (client, { output }) => {
        const now = Date.now();
        printList(output, await client.jobs.schedule.query(), {
          empty: 'No scheduled bursts (the config has no `schedule` entries).',
          header: ['entry', 'cron', 'window', 'next start', 'last outcome'],
          row: (entry) => [entry.name, entry.cron, `${entry.windowHours} h`, nextStartOf(entry, now), lastOutcomeOf(entry)],
        });
      }),
    );
}

/** "2026-06-01 22:00 (in 3 h)", or why there is none. */
function nextStartOf(entry: ScheduleEntryView, now: number): string {
  if (entry.finished) return 'none: complete (until: complete)';
  if (entry.nextStart === undefined) return 'none: the cron matches no later date';
  const minutes = (entry.nextStart - now) / 60_000;
  return `${localTime(entry.nextStart)} (in ${minutes < 1 ? 'under a minute' : formatAge(now, entry.nextStart)})`;
}

/** "started job-… (2026-06-01 22:00)", "skipped: job … is still running …". */
function lastOutcomeOf(entry: ScheduleEntryView): string {
  const { last } = entry;
  if (!last) return 'never fired';
  const what = last.outcome === 'started' && last.jobId ? `started ${last.jobId}` : `${last.outcome}: ${last.detail}`;
  return `${what} (${localTime(last.at)})`;
}

/** Local time to the second when it has one (seconds-level crons), else to the minute. */
function localTime(ms: number): string {
  const at = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  const seconds = at.getSeconds() === 0 ? '' : `:${two(at.getSeconds())}`;
  return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} ${two(at.getHours())}:${two(at.getMinutes())}${seconds}`;
}
