import type { Command } from 'commander';
import { isFinal } from '@plexlift/shared';
import type { AgentEvent } from '@plexlift/shared/protocol';
import { createDaemonAction } from '../command-action.js';
import { formatProgress } from '../job-progress.js';
import { pointInTime, wholeNumber } from '../option-parsers.js';
import { toTerminalJson, toTerminalText } from '../terminal-text.js';

/** One event as a log line: its time, then what happened, with nothing the agent sent that a terminal would act on. */
export function formatLogLine(at: number, event: AgentEvent): string {
  return toTerminalText(describeEvent(at, event));
}

function describeEvent(at: number, event: AgentEvent): string {
  const time = new Date(at).toISOString().replace('T', ' ').slice(0, 19);
  switch (event.type) {
    case 'phase:start':
      return `${time} ${event.phase}: started`;
    case 'phase:progress':
      return `${time} ${formatProgress(event)}`;
    case 'phase:complete':
      return `${time} ${event.phase}: ${event.summary.skipped === true ? 'skipped' : 'done'} ${JSON.stringify(event.summary)}`;
    case 'phase:fail':
      return `${time} ${event.phase}: FAILED (${event.code}) ${event.message}`;
    case 'cpu:sample':
      return `${time} cpu ${event.percent} %`;
    case 'log':
      return `${time} ${event.level}: ${event.message}`;
  }
}

export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description("a job's log: every event the agent and the daemon recorded")
    .argument('<JOB>', 'job id')
    .option('-f, --follow', 'keep printing until the job ends')
    .option('-n, --tail <n>', 'only the last N lines (then new ones with --follow)', wholeNumber(1, 10_000))
    .option('--since <when>', 'only lines from then on: a duration back (10m, 2h, 1d) or a date and time', (value) => pointInTime(value))
    .option('--cpu', 'include the CPU samples')
    .option('--json', 'print JSON lines')
    .action(
      createDaemonAction<{ follow?: boolean; tail?: number; since?: number; cpu?: boolean; json?: boolean }, [jobId: string]>(
        async (client, { args: [jobId], options, output }) => {
          const print = (entry: { at: number; event: AgentEvent }) => output.result(output.json ? toTerminalJson(entry) : formatLogLine(entry.at, entry.event));
          const filter = { jobId, withCpu: options.cpu === true, sinceAt: options.since ?? 0 };
          let after = 0;
          if (options.tail !== undefined) {
            const last = await client.jobs.log.query({ ...filter, last: true, limit: options.tail });
            last.forEach(print);
            after = last.at(-1)?.id ?? 0;
            if (!options.follow) return;
            // Only what comes next: the rest of the past stays untold.
            if (last.length === 0) after = (await client.jobs.log.query({ jobId, last: true, limit: 1 })).at(-1)?.id ?? 0;
          }
          for (;;) {
            const page = await client.jobs.log.query({ ...filter, afterId: after });
            page.forEach(print);
            after = page.at(-1)?.id ?? after;
            if (page.length > 0) continue;
            if (!options.follow) return;
            const { job } = await client.jobs.get.query({ jobId });
            if (isFinal(job.state)) return;
            await new Promise((resolve) => setTimeout(resolve, 1_000));
          }
        },
      ),
    );
}
