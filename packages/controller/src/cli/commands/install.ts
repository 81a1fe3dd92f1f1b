import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { listBackups, prunableBackups, pruneBackups } from '../../install/backups.js';
import { assertHomeUnlocked } from '../../install/home-lock.js';
import { assertNoInstall } from '../../install/install-pending.js';
import { backupsDirOf, chooseBackup, homeOf, rollbackHome, rollbackQuestion } from '../../install/home-rollback.js';
import { describeInstallStep } from '../../install/install-step-text.js';
import { createCommandAction, createDaemonAction } from '../command-action.js';
import { confirmOnTerminal } from '../confirm.js';
import { wholeNumber } from '../option-parsers.js';
import { printList } from '../output.js';
import { followJob } from './follow-job.js';

function homeAt(configPath: string | undefined) {
  const { config } = loadConfig({ path: configPath });
  return { config, home: homeOf(config), backupsDir: backupsDirOf(config) };
}

export function registerInstall(program: Command): void {
  program
    .command('install')
    .description('install the verified archive of a job run with --no-install, or of one whose install was refused or failed')
    .argument('<JOB>', 'job id')
    .option('--allow-deletions', 'install even when the new library lacks more of a home section than the deletion cap')
    .option('--json', 'print JSON')
    .action(
      createDaemonAction<{ json?: boolean; allowDeletions?: boolean }, [jobId: string]>(async (client, { args: [jobId], options, output }) => {
        // Followed while it runs, from the job's newest event: the steps show as they happen (home Plex's downtime above all).
        const [newest] = await client.jobs.log.query({ jobId, last: true, limit: 1 });
        const installing = client.jobs.install.mutate({ jobId, allowDeletions: options.allowDeletions === true });
        return await followJob(client, jobId, output, { during: installing, ...(newest ? { afterEventId: newest.id } : {}) });
      }),
    );

  program
    .command('rollback')
    .description('put the latest backup back into the home Plex (stops and starts it; works without the daemon)')
    .option('--backup <dir>', 'a backup other than the latest (see plexlift backups list)')
    .option('--yes', 'do not ask on a terminal')
    .option('--json', 'print JSON')
    .action(
      createCommandAction<{ backup?: string; yes?: boolean; json?: boolean }>(async ({ options, output, command }) => {
        const { config } = loadConfig({ path: command.optsWithGlobals<{ config?: string }>().config });
        const backup = chooseBackup(config, options.backup);
        if (!(await confirmOnTerminal(rollbackQuestion(backup), options))) {
          output.info('nothing was changed');
          return;
        }
        output.info(`putting back ${backup.dir} (made ${backup.manifest.createdAt} before job ${backup.manifest.jobId})`);
        await rollbackHome(config, backup, (step, detail) => output.info(describeInstallStep(step, detail)));
        if (output.json) output.printJson({ backup: backup.dir, jobId: backup.manifest.jobId, restored: true });
        else output.result(`the home library is back as it was before job ${backup.manifest.jobId}, and Plex answers`);
      }),
    );

  const backups = program.command('backups').description('the backups installs make (works without the daemon)');
  backups
    .command('list')
    .description('newest first')
    .option('--json', 'print JSON')
    .action(
      createCommandAction<{ json?: boolean }>(({ output, command }) => {
        const { backupsDir } = homeAt(command.optsWithGlobals<{ config?: string }>().config);
        printList(output, listBackups(backupsDir), {
          empty: `No backups in ${backupsDir}.`,
          header: ['backup', 'job', 'made', 'files replaced', 'files added'],
          row: (b) => [b.dir, b.manifest.jobId, b.manifest.createdAt, b.manifest.replaced.length, b.manifest.created.length],
        });
      }),
    );
  backups
    .command('prune')
    .description('keep the newest N backups (home.backups.keep unless --keep)')
    .option('--keep <n>', 'how many to keep', wholeNumber(1))
    .option('--yes', 'do not ask on a terminal')
    .option('--json', 'print JSON')
    .action(
      createCommandAction<{ keep?: number; yes?: boolean; json?: boolean }>(async ({ options, output, command }) => {
        const { config, home, backupsDir } = homeAt(command.optsWithGlobals<{ config?: string }>().config);
        const keep = options.keep ?? home.backups.keep;
        assertNoInstall(config.server.stateDir, 'prune', { orPending: false });
        // A rollback under way (here or in the daemon) may be reading the backup a prune would delete.
        assertHomeUnlocked(config.server.stateDir, 'prune');
        const doomed = prunableBackups(backupsDir, keep);
        if (doomed.length > 0 && !(await confirmOnTerminal(`Delete ${doomed.length} backup(s): ${doomed.join(', ')}?`, options))) {
          output.info('nothing was changed');
          return;
        }
        assertNoInstall(config.server.stateDir, 'prune', { orPending: false });
        assertHomeUnlocked(config.server.stateDir, 'prune');
        const removed = pruneBackups(backupsDir, keep);
        if (output.json) output.printJson({ removed });
        else output.result(removed.length === 0 ? 'Nothing to prune.' : `removed ${removed.join(', ')}`);
      }),
    );
}
