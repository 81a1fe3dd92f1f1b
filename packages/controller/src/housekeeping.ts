import { isFinal } from '@plexlift/shared';
import type { ControllerCore } from './controller.js';
import type { Logger } from './logger.js';
import { agentLogsDir, pruneAgentLogs, rotateAgentLogs } from './providers/agent-logs.js';

const DAY_MS = 86_400_000;
const MEGABYTE = 1024 * 1024;

/** How often the agents' logs are looked at: a running agent's grows by little more than this much of output past its limit. */
const AGENT_LOG_CHECK_MS = 60_000;

/** What the daemon keeps tidy: its job history, its transfer folders and the agents' logs. */
export interface Housekeeping {
  core: Pick<ControllerCore, 'jobs' | 'transfers'>;
  /** server.keepJobsDays: how long a finished job is kept. */
  keepJobsDays: number;
  /** server.agentLogs, and the work roots of the providers whose agents run here (their logs are under them). */
  agentLogs: { workRoots: string[]; keepDays: number; maxMegabytes: number; rotateMegabytes: number };
  logger: Logger;
}

/** Forgets the finished jobs older than `server.keepJobsDays`. */
function pruneJobs({ core, keepJobsDays, logger }: Housekeeping): void {
  const pruned = core.jobs.prune(keepJobsDays * DAY_MS);
  if (pruned > 0) logger.info(`forgot ${pruned} finished jobs older than ${keepJobsDays} days`);
}

/** Deletes the transfer folders no job needs (orphans, and those of jobs that are over with them). */
function sweepTransfers({ core, logger }: Housekeeping): void {
  for (const swept of core.transfers.sweep((jobId) => core.jobs.get(jobId)?.state)) logger.info(`deleted transfer folder ${swept}: no job needs it`);
}

/** Rotates each running agent's log past `rotateMegabytes`, one older file kept (agent-logs.ts says how). */
function rotateLiveAgentLogs({ agentLogs, logger }: Housekeeping): void {
  for (const root of agentLogs.workRoots)
    for (const log of rotateAgentLogs(root, agentLogs.rotateMegabytes * MEGABYTE))
      logger.info(`rotated agent log ${log}: over ${agentLogs.rotateMegabytes} MB`);
}

/** Deletes the kept agent logs older than `keepDays`, then the oldest while the folder is over `maxMegabytes`; never a live job's. */
function pruneKeptAgentLogs({ core, agentLogs, logger }: Housekeeping): void {
  const { keepDays, maxMegabytes } = agentLogs;
  const isLive = (jobId: string) => {
    const state = core.jobs.get(jobId)?.state;
    return state !== undefined && !isFinal(state);
  };
  for (const root of agentLogs.workRoots) {
    for (const { file, reason } of pruneAgentLogs(agentLogsDir(root), { keepDays, maxBytes: maxMegabytes * MEGABYTE, isLive }))
      logger.info(`deleted agent log ${file}: ${reason === 'age' ? `older than ${keepDays} days` : `the agent logs were over ${maxMegabytes} MB`}`);
  }
}

/** At start-up, before anything serves the jobs: a failure is a start-up failure. */
export function housekeepAtStart(house: Housekeeping): void {
  pruneJobs(house);
  sweepTransfers(house);
  pruneKeptAgentLogs(house);
}

/**
 * Daily, from a timer: both steps run whatever the other did (a day with nothing to prune still
 * has folders to sweep, a failed upload's for one), and a failure is logged, not thrown (a throw in
 * a timer would stop the daemon and every job under way). The next day tries again.
 */
export function housekeepDaily(house: Housekeeping): void {
  const steps = [
    ['forgetting old jobs', pruneJobs],
    ['deleting unneeded transfer folders', sweepTransfers],
  ] as const;
  for (const [what, step] of steps) {
    try {
      step(house);
    } catch (error) {
      house.logger.error(`daily housekeeping: ${what} failed, tried again tomorrow: ${(error as Error).message}`);
    }
  }
}

/** Runs `housekeepDaily` every day until the timer is cleared; it does not keep the process alive. */
export function startDailyHousekeeping(house: Housekeeping): NodeJS.Timeout {
  return setInterval(() => housekeepDaily(house), DAY_MS).unref();
}

/**
 * Every minute, the agents' logs: a running agent's is bounded by size (a day would let a looping
 * agent fill the disk), and the kept ones by age and in all. A failure is logged, as the daily one's.
 */
export function startAgentLogHousekeeping(house: Housekeeping): NodeJS.Timeout {
  const steps = [
    ["rotating the running agents' logs", rotateLiveAgentLogs],
    ['deleting old agent logs', pruneKeptAgentLogs],
  ] as const;
  return setInterval(() => {
    for (const [what, step] of steps) {
      try {
        step(house);
      } catch (error) {
        house.logger.error(`agent log housekeeping: ${what} failed, tried again in a minute: ${(error as Error).message}`);
      }
    }
  }, AGENT_LOG_CHECK_MS).unref();
}
