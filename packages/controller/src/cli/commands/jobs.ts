import type { Command } from 'commander';
import { createDaemonAction } from '../command-action.js';
import { formatAge, printList } from '../output.js';
import { followJob } from './follow-job.js';
import { formatReport } from './job-report-view.js';

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
        const { job, phases } = await client.jobs.get.query({ jobId: id });
        if (output.json) return output.printJson({ job, phases });
        const lines = [
          `job ${job.id}: ${job.state}${job.phase ? ` (${job.phase})` : ''}, ${job.spec.mode} on ${job.provider}, started ${since(job.createdAt)}`,
        ];
        const price = typeof job.resource?.hourlyPrice === 'number' ? job.resource.hourlyPrice : undefined;
        if (price !== undefined && ['provisioning', 'running'].includes(job.state)) {
          const hours = (Date.now() - job.createdAt) / 3_600_000;
          lines.push(`  cost so far: ≈ ${(hours * price).toFixed(2)} € (${hours.toFixed(2)} h at ${price} €/h)`);
        }
        for (const phase of phases)
          lines.push(
            `  ${phase.state === 'done' ? '✓' : phase.state === 'failed' ? '✗' : phase.state === 'skipped' ? '-' : '›'} ${phase.phase} ${phase.state}`,
          );
        if (job.error) lines.push(`  ${job.error.code}: ${job.error.message}`);
        // A job under way has only the library as it found it: its report comes when it ends.
        if (job.report?.hours !== undefined) lines.push(formatReport(job.id, job.report));
        output.result(lines.join('\n'));
      }),
    );

  program
    .command('abort')
    .description('abort a job: the agent stops, its machine is deleted, nothing is installed')
    .argument('<JOB>', 'job id')
    .option('--reason <text>', 'said in the job log', 'asked by the user')
    .action(
      createDaemonAction<{ reason: string }, [jobId: string]>(async (client, { args: [jobId], options, output }) => {
        await client.jobs.abort.mutate({ jobId, reason: options.reason });
        output.result(`job ${jobId} aborted`);
      }),
    );
}
