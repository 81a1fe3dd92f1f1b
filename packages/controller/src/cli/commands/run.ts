import type { Command } from 'commander';
import type { CostEstimate } from '../../jobs/job-runner.js';
import { PlexliftError } from '@plexlift/shared';
import { withController } from '../controller-connection.js';
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
  dryRun?: boolean;
  yes?: boolean;
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
    .option('--dry-run', 'print the plan, the cost estimate and the checks; start nothing')
    .option('--yes', 'answer yes: a scan job over a library with watch history')
    .option('--json', 'print JSON')
    .action(async (options: RunOptions, command: Command) => {
      const output = createOutput({ json: options.json === true });
      await runAction(output, async () => {
        if (options.mode !== 'scan' && options.mode !== 'delta') throw new PlexliftError('BAD_ARGUMENT', `--mode: must be scan or delta, not "${options.mode}"`);
        if (options.provider !== undefined && !['local', 'docker', 'scaleway'].includes(options.provider)) {
          throw new PlexliftError('BAD_ARGUMENT', `--provider: must be local, docker or scaleway, not "${options.provider}"`);
        }
        const request = {
          mode: options.mode === 'scan' ? ('scan' as const) : ('delta' as const),
          sections: options.section,
          forceRefresh: options.forceRefresh === true,
          skipAnalysis: options.skipAnalysis === true,
          skipSonic: options.skipSonic === true,
          allowDeletions: options.allowDeletions === true,
          keep: options.keep === true,
          noInstall: !options.install,
          yes: options.yes === true,
          ...(options.provider ? { provider: options.provider as 'local' } : {}),
        };
        return withController(command, async (client) => {
        if (options.dryRun) {
          const plan = await client.jobs.plan.query(request);
          if (output.json) return output.printJson(plan);
          const analyses = Object.entries(plan.spec.analyses).filter(([, on]) => on).map(([name]) => name);
          output.result(
            [
              `plan: a ${plan.spec.mode} job on ${plan.provider}, Plex ${plan.spec.plex.version}, sections ${plan.spec.sections.length > 0 ? plan.spec.sections.join(', ') : 'all'}`,
              `  media ${plan.spec.media.remote} at ${plan.spec.media.mountPath} (${plan.spec.media.vfsProfile}); analyses: ${plan.spec.skipAnalysis ? 'none' : analyses.join(', ')}${plan.spec.skipSonic ? ' (no Sonic)' : ''}`,
              `  cost: ${formatEstimate({ hourlyPrice: plan.hourlyPrice, ...(plan.caps ? { caps: plan.caps } : {}) })}`,
              ...plan.checks.map((c) => `${c.ok ? 'ok ' : 'FIX'}  ${c.name}: ${c.detail}`),
              'nothing was started (--dry-run)',
            ].join('\n'),
          );
          return plan.checks.every((c) => c.ok) ? 0 : 78;
        }
        const job = await client.jobs.run.mutate(request);
        output.info(`job ${job.id} started (${job.spec.mode}, provider ${job.provider}; ${formatEstimate(job.estimate)})`);
        if (!options.wait) {
          if (output.json) output.printJson(job);
          else output.result(job.id);
          return;
        }
        return await followJob(client, job.id, output);
        });
      });
    });
}

/** "0.2128 €/h, stopped at 12 h or 10 €" */
function formatEstimate(estimate: CostEstimate): string {
  if (estimate.hourlyPrice === 0 && !estimate.caps) return 'nothing to pay';
  return `${estimate.hourlyPrice} €/h${estimate.caps ? `, stopped at ${estimate.caps.maxHours} h or ${estimate.caps.maxCost} € whatever happens` : ''}`;
}
