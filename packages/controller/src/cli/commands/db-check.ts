import type { Command } from 'commander';
import { EXIT_CODES, exitStatusOf } from '@plexlift/shared';
import { checkIntegrity, findPlexDatabases, type IntegrityReport } from '@plexlift/shared/plex-db';
import { databaseToolOptions, loadConfig } from '../../config.js';
import { createCommandAction } from '../command-action.js';

export function registerDbCheck(db: Command): void {
  db.command('check')
    .description('check the B-trees of the library DB and its blobs DB with stock SQLite (read-only); exit 3 when corrupt')
    .argument('<DB>', 'path of com.plexapp.plugins.library.db (the blobs DB beside it is checked too)')
    .option('--scratch-dir <dir>', 'folder for the scratch copy the check runs on (default: config, else the temp folder)')
    .option('--json', 'print JSON')
    .action(
      createCommandAction<{ json?: boolean; scratchDir?: string }, [path: string]>(async ({ args: [path], options, output, command }) => {
        const { config } = loadConfig({ path: command.optsWithGlobals<{ config?: string }>().config });
        const scratchDir = options.scratchDir ?? databaseToolOptions(config).scratchDir;
        const files = findPlexDatabases(path);
        const reports: IntegrityReport[] = [];
        const progress = output.progress();
        for (const file of [files.main, files.blobs].filter((f): f is string => f !== undefined)) {
          progress.phase(`checking ${file}`);
          reports.push(
            await checkIntegrity(file, {
              scratchDir,
              onProgress: (p) => {
                if (p.copy) progress.update(p.copy.copiedPages, p.copy.totalPages, 'pages');
              },
            }),
          );
          progress.stop();
        }
        const ok = reports.every((r) => r.ok);
        if (output.json) output.printJson({ ok, databases: reports });
        else output.result(reports.map(formatReport).join('\n'));
        return ok ? EXIT_CODES.ok : exitStatusOf('DATABASE_CORRUPT');
      }),
    );
}

function formatReport(report: IntegrityReport): string {
  const seconds = (report.durationMs / 1000).toFixed(1);
  if (report.ok) {
    const unchecked = report.unchecked.map((u) => u.name).join(', ');
    return `${report.path}: ok (${seconds} s)` + (unchecked ? `\n  not verifiable with stock SQLite: ${unchecked}` : '');
  }
  const lines = [`${report.path}: CORRUPT`];
  if (report.damaged.length > 0) lines.push(`  damaged: ${report.damaged.join(', ')}`);
  for (const problem of report.problems.slice(0, 10)) lines.push(`  ${problem}`);
  if (report.problems.length > 10) lines.push(`  … and ${report.problems.length - 10} more`);
  lines.push('  Repair into a new file with: plexlift db repair DB --out NEW');
  return lines.join('\n');
}
