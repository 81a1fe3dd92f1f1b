import type { JobReport } from '@plexlift/shared';
import { formatDuration, formatTable } from '../output.js';
import { toTerminalText } from '../terminal-text.js';

const KINDS = ['movie', 'episode', 'track', 'photo'] as const;

/** The report as a person reads it: per library before → after (delta), Sonic, phases, bytes, cost. */
export function formatReport(jobId: string, report: JobReport): string {
  const lines = [`job ${jobId}: report`];
  const { libraries, sonic, phases, bytesMoved: bytes } = report;
  if (libraries) {
    const rows: (string | number)[][] = [['library', ...KINDS.map((k) => `${k}s`)]];
    for (const section of libraries.sections) {
      rows.push([
        toTerminalText(section.title),
        ...KINDS.map((kind) => {
          const before = section.before?.counts[kind] ?? 0;
          const after = section.after?.counts[kind] ?? 0;
          if (before === 0 && after === 0) return '';
          const change = after - before;
          return `${before} → ${after} (${change >= 0 ? '+' : ''}${change})`;
        }),
      ]);
    }
    lines.push(formatTable(rows));
    if (report.librariesAsShipped) lines.push('(the new library as the VM shipped it, not installed yet: plexlift install counts it again at home first)');
  }
  if (report.landed) {
    const { landed } = report;
    lines.push(`incomplete: landed (${landed.reason})${landed.unfinished.length > 0 ? `; not finished: ${landed.unfinished.join(', ')}` : ''}`);
    if (landed.reserveSeconds !== undefined)
      lines.push(
        `landing: ${landed.reserveSeconds} s reserved, ${landed.actualSeconds === undefined ? 'the machine not deleted by it' : `${landed.actualSeconds} s taken`}${landed.overran ? '; it overran the cap: the machine was deleted at the cap, nothing installed' : ''}`,
      );
  }
  for (const section of report.sonicSections ?? []) {
    if (!section.after) continue;
    const added = section.after.analyzed - section.before.analyzed;
    const left = section.after.total - section.after.analyzed;
    lines.push(
      `Sonic ${toTerminalText(section.title)}: ${section.before.analyzed} → ${section.after.analyzed} of ${section.after.total} tracks (+${added}), ${left} left`,
    );
  }
  if (sonic) lines.push(`Sonic: ${sonic.analyzed} of ${sonic.total} tracks (${sonic.percent} %)`);
  lines.push(...formatHomeChanges(report.homeChanges));
  for (const lost of report.homeDeletions ?? [])
    lines.push(
      `not in the new library: ${lost.missing} of the ${lost.total} items home had in ${lost.section} (within the cap of ${lost.limit}), e.g. ${lost.sample.map((t) => `"${t}"`).join(', ')}; the home Plex adds back any whose files it still has at its next scan of ${lost.section}`,
    );
  if (report.rates?.tracksPerHour !== undefined)
    lines.push(`rate: ${report.rates.tracksPerHour} tracks/h${report.rates.tracksPerEuro === undefined ? '' : `, ${report.rates.tracksPerEuro} tracks/€`}`);
  if (phases)
    lines.push(
      `phases: ${Object.entries(phases)
        .map(([name, p]) => `${name} ${p.state === 'skipped' ? 'skipped' : `${p.seconds ?? '?'}s`}`)
        .join(', ')}`,
    );
  if (bytes)
    lines.push(
      `moved: ${Object.entries(bytes)
        .map(([direction, n]) => `${direction} ${(n / 1024 / 1024).toFixed(1)} MiB`)
        .join(', ')}`,
    );
  if (report.hours !== undefined) lines.push(`time: ${report.hours} h, cost: ${report.cost ?? 0} €`);
  if (report.estimate && report.hours !== undefined) {
    const actual = report.hours * 3600;
    const off = report.estimate.seconds > 0 ? Math.round((100 * (actual - report.estimate.seconds)) / report.estimate.seconds) : undefined;
    lines.push(
      `estimated: ${formatDuration(report.estimate.seconds)}${report.estimate.cost === undefined ? '' : `, ${report.estimate.cost} €`} (${report.estimate.basis}); took ${formatDuration(actual)}${off === undefined ? '' : ` (${off >= 0 ? '+' : ''}${off} %)`}`,
    );
  }
  return lines.join('\n');
}

/** What people did at home during the job: carried per table, and what was not, with why. */
function formatHomeChanges(changes: JobReport['homeChanges']): string[] {
  if (!changes) return [];
  const lines: string[] = [];
  for (const table of changes.tables) {
    if (table.carried > 0 || table.removed > 0) {
      const waiting = table.waiting > 0 ? ` (${table.waiting} waiting for their item to be scanned)` : '';
      lines.push(`carried from home: ${table.table} ${table.carried} rows${table.removed > 0 ? `, ${table.removed} removed` : ''}${waiting}`);
    }
    for (const left of table.notCarried)
      lines.push(`not carried from home: ${table.table} ${left.rows} rows, ${left.reason}${left.sample.length > 0 ? ` (e.g. ${left.sample[0]})` : ''}`);
  }
  for (const playlist of changes.playlists?.carried ?? [])
    lines.push(
      `carried from home: playlist "${playlist.title}" (${playlist.items} items${playlist.missing > 0 ? `; ${playlist.missing} not in the new library` : ''})`,
    );
  for (const playlist of changes.playlists?.notCarried ?? []) lines.push(`not carried from home: playlist "${playlist.title}", ${playlist.reason}`);
  for (const table of changes.notMerged)
    lines.push(`changed at home, not carried: ${table.table} (${table.rows.base} → ${table.rows.home} rows; the new library's version stands)`);
  return lines;
}
