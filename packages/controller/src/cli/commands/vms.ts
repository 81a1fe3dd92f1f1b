import type { Command } from 'commander';
import { EXIT_CODES } from '@plexlift/shared';
import { withController } from '../controller-connection.js';
import { createOutput, formatAge, formatTable } from '../output.js';
import { runAction } from '../run-action.js';

const age = (createdAt: number | undefined) => (createdAt === undefined ? '?' : formatAge(createdAt));

export function registerVms(program: Command): void {
  program
    .command('vms')
    .description('every machine, volume and IP plexlift made that still exists, with its job and age')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const output = createOutput({ json: options.json === true });
      await runAction(output, () =>
        withController(command, async (client) => {
          const holdings = await client.jobs.vms.query();
          if (output.json) return output.printJson(holdings);
          if (holdings.length === 0) return output.result('Nothing: no machine, volume or IP of plexlift exists.');
          output.result(
            formatTable([
              ['provider', 'job', 'job state', 'owned', 'age', 'what'],
              ...holdings.map((h) => [h.provider, h.jobId, h.jobState ?? '(unknown job)', h.owned ? 'yes' : 'NO: orphan', age(h.createdAt), h.description]),
            ]),
          );
        }),
      );
    });

  program
    .command('reap')
    .description('delete what no live job owns (two passes: the first marks, the next deletes); --dry-run says what it would do')
    .option('--dry-run', 'change nothing; say what would be marked or deleted')
    .option('--json', 'print JSON')
    .action(async (options: { dryRun?: boolean; json?: boolean }, command: Command) => {
      const output = createOutput({ json: options.json === true });
      await runAction(output, () =>
        withController(command, async (client) => {
          const outcomes = await client.jobs.reap.mutate({ dryRun: options.dryRun === true });
          if (output.json) output.printJson(outcomes);
          else if (outcomes.length === 0) output.result('Nothing to reap.');
          else output.result(formatTable([['provider', 'job', 'action', 'what', 'why'], ...outcomes.map((o) => [o.provider, o.jobId, o.action, o.description, o.detail])]));
          return outcomes.some((o) => o.action === 'failed') ? EXIT_CODES.jobFailed : EXIT_CODES.ok;
        }),
      );
    });
}
