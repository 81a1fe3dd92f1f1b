import type { Command } from 'commander';
import { EXIT_CODES, exitStatusOf } from '@plexlift/shared';
import { createDaemonAction } from '../command-action.js';
import { formatAge, printList } from '../output.js';

const age = (createdAt: number | undefined) => (createdAt === undefined ? '?' : formatAge(createdAt));

export function registerVms(program: Command): void {
  program
    .command('vms')
    .description('every machine, volume and IP plexlift made that still exists, with its job and age')
    .option('--json', 'print JSON')
    .action(
      createDaemonAction<{ json?: boolean }>(async (client, { output }) => {
        const holdings = await client.jobs.vms.query();
        printList(output, holdings, {
          empty: 'Nothing: no machine, volume or IP of plexlift exists.',
          header: ['provider', 'job', 'job state', 'owned', 'age', 'what'],
          row: (h) => [h.provider, h.jobId, h.jobState ?? '(unknown job)', h.owned ? 'yes' : 'NO: orphan', age(h.createdAt), h.description],
        });
      }),
    );

  program
    .command('reap')
    .description('delete what no live job owns (two passes: the first marks, the next deletes); --dry-run says what it would do')
    .option('--dry-run', 'change nothing; say what would be marked or deleted')
    .option('--json', 'print JSON')
    .action(
      createDaemonAction<{ dryRun?: boolean; json?: boolean }>(async (client, { options, output }) => {
        const outcomes = await client.jobs.reap.mutate({ dryRun: options.dryRun === true });
        printList(output, outcomes, {
          empty: 'Nothing to reap.',
          header: ['provider', 'job', 'action', 'what', 'why'],
          row: (o) => [o.provider, o.jobId, o.action, o.description, o.detail],
        });
        return outcomes.some((o) => o.action === 'failed') ? exitStatusOf('CLOUD_ERROR') : EXIT_CODES.ok;
      }),
    );
}
