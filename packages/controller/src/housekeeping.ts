import type { ControllerCore } from './controller.js';
import type { Logger } from './logger.js';

const DAY_MS = 86_400_000;

/** What the daemon keeps tidy: its job history and its transfer folders. */
export interface Housekeeping {
  core: Pick<ControllerCore, 'jobs' | 'transfers'>;
  /** server.keepJobsDays: how long a finished job is kept. */
  keepJobsDays: number;
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

/** At start-up, before anything serves the jobs: a failure is a start-up failure. */
export function housekeepAtStart(house: Housekeeping): void {
  pruneJobs(house);
  sweepTransfers(house);
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
