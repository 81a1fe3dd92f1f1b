import type { Command } from 'commander';
import { PlexliftError } from '@plexlift/shared';
import { connectController, fromControllerError } from '../controller-connection.js';
import { createOutput } from '../output.js';
import { runAction } from '../run-action.js';
import { followJob } from './follow-job.js';

interface RunOptions {
  mode: string;
  section: string[];
  forceRefresh?: boolean;
  skipAnalysis?: boolean;
  skipSonic?: boolean;
  provider?: string;
  keep?: boolean;
  wait?: boolean;
  allowDeletions?: boolean;
  install: boolean;
  json?: boolean;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('start a job: scan or delta, on the configured provider (the daemon runs it)')
    .requiredOption('--mode <mode>', 'scan (a new library built in the cloud) or delta (home library updated)')
    .option('--section <name>', 'a section by name or id (repeat; default: every section)', (value: string, all: string[]) => [...all, value], [])
    .option('--force-refresh', 'refresh all metadata (never with Sonic)')
    .option('--skip-analysis', 'no media analysis (and so no Sonic)')
    .option('--skip-sonic', 'no Sonic analysis')
    .option('--provider <name>', 'local, docker or scaleway (default: the config\'s provider)')
    .option('--keep', 'keep the VM after the archive is home (still under the lifetime cap)')
    .option('--wait', 'follow the job until it ends; the exit status is the job\'s')
    .option('--allow-deletions', 'install even when a scan lost more items than the deletion cap')
    .option('--no-install', 'stop once the archive is verified at home (then plexlift install JOB)')
    .option('--json', 'print JSON')
    .action(async (options: RunOptions, command: Command) => {
      const output = createOutput({ json: options.json === true });
      await runAction(output, async () => {
        if (options.mode !== 'scan' && options.mode !== 'delta') throw new PlexliftError('BAD_ARGUMENT', `--mode: must be scan or delta, not "${options.mode}"`);
        if (options.provider !== undefined && !['local', 'docker', 'scaleway'].includes(options.provider)) {
          throw new PlexliftError('BAD_ARGUMENT', `--provider: must be local, docker or scaleway, not "${options.provider}"`);
        }
        const client = connectController(command.optsWithGlobals<{ config?: string }>().config);
        try {
          const job = await client.jobs.run
            .mutate({
              mode: options.mode,
              sections: options.section,
              forceRefresh: options.forceRefresh === true,
              skipAnalysis: options.skipAnalysis === true,
              skipSonic: options.skipSonic === true,
              allowDeletions: options.allowDeletions === true,
              keep: options.keep === true,
              noInstall: !options.install,
              ...(options.provider ? { provider: options.provider as 'local' } : {}),
            })
            .catch((error: unknown) => {
              throw fromControllerError(error);
            });
          output.info(`job ${job.id} started (${job.spec.mode}, provider ${job.provider})`);
          if (!options.wait) {
            if (output.json) output.printJson(job);
            else output.result(job.id);
            return;
          }
          return await followJob(client, job.id, output);
        } finally {
          await client.close();
        }
      });
    });
}
