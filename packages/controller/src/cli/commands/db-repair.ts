import { Option, type Command } from 'commander';
import { RECOVERY_ENGINE_KINDS, repairDatabase, type RecoveryEngineKind, type RepairReport } from '@plexlift/shared/plex-db';
import { databaseToolOptions, loadConfig } from '../../config.js';
import { createCommandAction } from '../command-action.js';

export function registerDbRepair(db: Command): void {
  db.command('repair')
    .description('recover a damaged DB into a new file (never in place) and report what was lost')
    .argument('<DB>', 'path of the damaged DB (only read)')
    .requiredOption('--out <file>', 'path of the recovered DB to write (must not exist)')
    .addOption(new Option('--engine <engine>', 'recovery shell (default: Plex SQLite when installed, else sqlite3)').choices(RECOVERY_ENGINE_KINDS))
    .option('--scratch-dir <dir>', 'folder for the working copy (default: config, else the temp folder)')
    .option('--json', 'print JSON')
    .action(
      createCommandAction<{ out: string; engine?: RecoveryEngineKind; scratchDir?: string; json?: boolean }, [path: string]>(
        async ({ args: [path], options, output, command }) => {
          const { config } = loadConfig({ path: command.optsWithGlobals<{ config?: string }>().config });
          const tools = databaseToolOptions(config);
          const progress = output.progress();
          const report = await repairDatabase(path, {
            out: options.out,
            engine: options.engine,
            sqlite3Path: tools.sqlite3Path,
            plexSqlitePath: tools.plexSqlitePath,
            scratchDir: options.scratchDir ?? tools.scratchDir,
            onProgress: ({ step, sqlBytes }) => {
              const names = { copy: 'copying the damaged DB', count: 'counting what it still shows', recover: 'recovering', verify: 'verifying the result' };
              progress.phase(names[step]);
              if (step === 'recover' && sqlBytes) progress.update(sqlBytes, Math.max(sqlBytes, 1), 'bytes');
            },
          });
          progress.stop();
          if (output.json) output.printJson(report);
          else output.result(formatRepair(report));
        },
      ),
    );
}

function formatRepair(report: RepairReport): string {
  const lines = [`Recovered ${report.source} into ${report.out} with ${report.engine.kind} ${report.engine.version} (${report.engine.command.join(' ')}).`];
  lines.push(`Result integrity: ${report.integrity.ok ? 'ok' : 'CORRUPT'}.`);
  const lossy = report.tables.filter((t) => t.lost > 0);
  if (report.dataComplete) {
    lines.push(`Data: every row is back (${report.tables.reduce((n, t) => n + t.after, 0).toLocaleString('en-US')} rows in ${report.tables.length} tables).`);
  } else {
    lines.push(`Data LOST: ${report.rowsLost.toLocaleString('en-US')} rows.`);
    for (const t of lossy) lines.push(`  ${t.name}: ${t.before} before, ${t.after} after, ${t.lost} lost`);
    if (report.uncounted.length > 0) lines.push(`  unknown (unreadable before): ${report.uncounted.join(', ')}`);
    if (report.lostAndFound > 0) lines.push(`  ${report.lostAndFound} rows the engine could not place are in its lost_and_found table`);
  }
  if (!report.schemaComplete) {
    lines.push('Schema objects this engine could not rebuild (re-create them with Plex SQLite before starting Plex):');
    for (const object of report.schemaLost) lines.push(`  ${object.type} ${object.name}: ${object.sql ?? ''}`);
  }
  if (report.engineMessages.length > 0) lines.push(`Engine messages: ${report.engineMessages.slice(0, 5).join(' | ')}`);
  return lines.join('\n');
}
