import type { StatsDiff } from '@plexlift/shared/plex-db';
import { formatTable } from '../output.js';

const KINDS = ['movie', 'episode', 'track', 'photo'] as const;

/** The report as a person reads it: per library before → after (delta), Sonic, phases, bytes, cost. */
export function formatReport(jobId: string, report: Record<string, unknown>): string {
  const lines = [`job ${jobId}: report`];
  const libraries = report.libraries as StatsDiff | undefined;
  if (libraries) {
    const rows: (string | number)[][] = [['library', ...KINDS.map((k) => `${k}s`)]];
    for (const section of libraries.sections) {
      rows.push([
        section.title,
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
  }
  const sonic = report.sonic as { analyzed: number; total: number; percent: number } | undefined;
  if (sonic) lines.push(`Sonic: ${sonic.analyzed} of ${sonic.total} tracks (${sonic.percent} %)`);
  const phases = report.phases as Record<string, { state: string; seconds?: number }> | undefined;
  if (phases) lines.push(`phases: ${Object.entries(phases).map(([name, p]) => `${name} ${p.state === 'skipped' ? 'skipped' : `${p.seconds ?? '?'}s`}`).join(', ')}`);
  const bytes = report.bytesMoved as Record<string, number> | undefined;
  if (bytes) lines.push(`moved: ${Object.entries(bytes).map(([direction, n]) => `${direction} ${(n / 1024 / 1024).toFixed(1)} MiB`).join(', ')}`);
  lines.push(`time: ${String(report.hours)} h, cost: ${String(report.cost)} €`);
  return lines.join('\n');
}
