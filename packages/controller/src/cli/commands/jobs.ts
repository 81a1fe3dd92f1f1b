import type { Command } from 'commander';
import { createDaemonAction } from '../command-action.js';
import { formatAge, printList } from '../output.js';
import { followJob } from './follow-job.js';
import { formatJobStatus } from './job-status-view.js';

const since = (ms: number) => `${formatAge(ms)} ago`;

export function registerJobs(program: Command): void {
  program
    .command('jobs')
    .description('list the jobs, newest first')
    .option('--json', 'print JSON')
    .action(
      createDaemonAction<{ json?: boolean }>(async (client, { output }) => {
        printList(output, await client.jobs.list.query(), {
          empty: 'No jobs yet.',
          header: ['job', 'mode', 'provider', 'state', 'phase', 'started'],
          row: (j) => [j.id, j.spec.mode, j.provider, j.state, j.phase ?? '', since(j.createdAt)],
        });
      }),
    );

  program
    .command('status')
    .description('where a job is (the newest when none is named); --watch follows it with progress bars')
    .argument('[JOB]', 'job id')
    .option('--watch', 'follow the job until it ends: phase, percent, rate, ETA')
    .option('--json', 'print JSON')
    .action(
      createDaemonAction<{ watch?: boolean; json?: boolean }, [jobId: string | undefined]>(async (client, { args: [jobId], options, output }) => {
        const id = jobId ?? (await client.jobs.list.query({ limit: 1 }))[0]?.id;
        if (!id) return output.result('No jobs yet.');
        if (options.watch) return await followJob(client, id, output);
        const status = await client.jobs.get.query({ jobId: id });
        if (output.json) return output.printJson(status);
        output.result(formatJobStatus(status));
      }),
    );

  program
    .command('land')
    .description('bring the work of a running job home now and install it (incomplete); the next run continues from there')
    .argument('<JOB>', 'job id')
    .option('--reason <text>', 'said in the job log', 'asked by the user')
    .option('--json', 'print JSON')
    .action(
      createDaemonAction<{ reason: string; json?: boolean }, [jobId: string]>(async (client, { args: [jobId], options, output }) => {
        const outcome = await client.jobs.land.mutate({ jobId, reason: options.reason });
        if (output.json) return output.printJson(outcome);
        output.result(`job ${jobId}: ${outcome.detail}`);
      }),
    );

  program
    .command('abort')
    .description('abort a job: the agent stops, its machine is deleted, nothing is installed')
    .argument('<JOB>', 'job id')
    .option('--reason <text>', 'said in the job log', 'asked by the user')
    .option('--json', 'print JSON')
    .action(
      createDaemonAction<{ reason: string; json?: boolean }, [jobId: string]>(async (client, { args: [jobId], options, output }) => {
        const outcome = await client.jobs.abort.mutate({ jobId, reason: options.reason });
        if (output.json) return output.printJson(outcome);
        output.result(
          outcome.state === 'aborted'
            ? `job ${jobId} aborted`
            : outcome.state === 'tearing-down'
              ? `job ${jobId} is tearing down: its machine is being deleted; nothing is installed`
              : `job ${jobId}: abort asked; it is ${outcome.state} now (plexlift status ${jobId})`,
        );
      }),
    );
}
