import type { Command } from 'commander';
import { findPlexDatabases, parsePathMapping, remapPaths, type PathMapping, type RemapReport } from '@plexlift/shared/plex-db';
import { createCommandAction } from '../command-action.js';
import { formatTable } from '../output.js';

export function registerDbRemap(db: Command): void {
  db.command('remap')
    .description('rewrite path prefixes (anchored, longest first, one pass), then verify no old prefix is left')
    .argument('<DB>', 'path of com.plexapp.plugins.library.db (Plex must be stopped unless --dry-run)')
    .option('--map <FROM=TO>', 'a prefix to rewrite; repeat for several (split at the first =)', collect, [] as string[])
    .option('--dry-run', 'report what would change, with samples; write nothing')
    .option('--json', 'print JSON')
    .action(
      createCommandAction<{ map: string[]; dryRun?: boolean; json?: boolean }, [path: string]>(({ args: [path], options, output }) => {
        const mappings: PathMapping[] = options.map.map((argument) => parsePathMapping(argument));
        const { main } = findPlexDatabases(path);
        const progress = output.progress();
        const report = remapPaths(main, mappings, {
          dryRun: options.dryRun === true,
          onProgress: ({ step, done, total }) => {
            progress.phase(step);
            progress.update(done, total, 'steps');
          },
        });
        progress.stop();
        if (output.json) output.printJson(report);
        else output.result(formatRemap(report));
      }),
    );
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function formatRemap(report: RemapReport): string {
  const verb = report.dryRun ? 'would change' : 'changed';
  const rows: (string | number)[][] = [['column', 'rows', ...report.mappings.map((m) => m.from)]];
  for (const column of report.columns) rows.push([`${column.table}.${column.column}`, column.rows, ...column.rowsByMapping]);
  const lines = [`${report.dryRun ? 'Dry run: ' : ''}${report.rows.toLocaleString('en-US')} values ${verb} in ${report.mainDb}`, formatTable(rows)];
  for (const [i, mapping] of report.mappings.entries()) {
    const matched = report.columns.reduce((n, c) => n + (c.rowsByMapping[i] ?? 0), 0);
    if (matched === 0) lines.push(`warning: nothing starts with ${mapping.from} (typo?)`);
  }
  for (const column of report.columns) {
    for (const sample of column.samples) lines.push(`  ${column.table}.${column.column}: ${sample.before} → ${sample.after}`);
  }
  if (report.leftovers.length > 0) {
    lines.push('Old prefixes in columns plexlift does not rewrite (a real remap stops on these):');
    for (const l of report.leftovers) lines.push(`  ${l.database}:${l.table}.${l.column}: ${l.rows} rows, e.g. ${l.samples[0]}`);
  } else {
    lines.push(
      report.dryRun
        ? 'No old prefix outside the rewritten columns.'
        : `Verified: no old prefix left in any text column of ${report.blobsDb ? 'the main and blobs DBs' : 'the DB'}.`,
    );
  }
  return lines.join('\n');
}
