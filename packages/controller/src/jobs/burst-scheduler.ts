import { Cron } from 'croner';
import { isPlexliftError, RunRequestSchema, type Config, type RunRequest, type ScheduleEntry } from '@plexlift/shared';
import type { Logger } from '../logger.js';
import type { JobStore } from '../store/job-store.js';
import type { ScheduleStore } from '../store/schedule-store.js';
import type { ScheduleEntryView } from './job-control.js';

const HOUR = 3_600_000;
/** setTimeout's longest delay (about 24.8 days); a later start is reached in several waits. */
const MAX_DELAY = 2 ** 31 - 1;

export interface BurstSchedulerOptions {
  /** Its `schedule` entries, and `home.plexDataDir`: the library whose live job makes a firing skip. */
  config: Config;
  jobs: Pick<JobStore, 'live'>;
  store: ScheduleStore;
  /** Starts a job (the runner's `run`); resolves once it is recorded and under way. */
  run: (request: RunRequest) => Promise<{ id: string }>;
  /** Whether `plexlift progress` says nothing is left (read for `until: complete` entries). */
  isComplete: () => boolean;
  logger: Logger;
}

/** An entry as the scheduler follows it. */
interface Scheduled {
  entry: ScheduleEntry;
  cron: Cron;
  timer: NodeJS.Timeout | undefined;
  /** `until: complete` reached: no timer, no more runs. */
  finished: boolean;
}

/**
 * Starts the config's scheduled bursts: at each time an entry's cron gives, a run of its job
 * whose deadline is the window's end (the run lands before it). One timer per entry, set for the
 * cron's next start and unref'd (the daemon's server keeps it alive, not the schedule). A firing
 * while a job of the library is live is skipped; every firing's outcome is kept in the store.
 * At start, an entry whose latest start was missed (the daemon was down) runs now if its window
 * is still open, with that window's end, and not at all otherwise.
 */
export class BurstScheduler {
  private entries: Scheduled[] = [];
  private started = false;
  /** Firings whose run is being started: a job not yet recorded is live all the same. */
  private readonly starting = new Set<Promise<void>>();
  /** The wall clock, read at each start and wake (the cron's times are wall-clock times). */
  private readonly now = Date.now;

  constructor(private options: BurstSchedulerOptions) {
    this.entries = this.follow(options.config);
  }

  /** Catches up on open windows, then waits for each entry's next start. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const now = this.now();
    for (const scheduled of this.entries) {
      if (scheduled.entry.until === 'complete' && this.complete(scheduled)) {
        this.finish(scheduled);
        continue;
      }
      const latest = this.latestStart(scheduled, now);
      if (latest !== undefined && latest + windowMs(scheduled.entry) > now) this.fire(scheduled, latest, now);
      this.arm(scheduled, now);
    }
  }

  /** No more firings; resolves once the runs being started are recorded (the store may close then). */
  async stop(): Promise<void> {
    this.started = false;
    for (const scheduled of this.entries) clearTimeout(scheduled.timer);
    await Promise.allSettled([...this.starting]);
  }

  /** A new config (SIGHUP): the entries are read again, and followed as at start. */
  updateConfig(config: Config): void {
    for (const scheduled of this.entries) clearTimeout(scheduled.timer);
    this.options = { ...this.options, config };
    this.entries = this.follow(config);
    if (this.started) {
      this.started = false;
      this.start();
    }
  }

  /** `plexlift schedule`: each entry with its next start and its last firing. */
  view(): ScheduleEntryView[] {
    const now = this.now();
    return this.entries.map(({ entry, cron, finished }) => {
      const next = finished ? null : cron.nextRun(new Date(now));
      const last = this.options.store.last(entry.name);
      return {
        name: entry.name,
        cron: entry.cron,
        windowHours: entry.windowHours,
        ...(next ? { nextStart: next.getTime() } : {}),
        ...(entry.until ? { until: entry.until } : {}),
        finished,
        ...(last ? { last: { at: last.at, outcome: last.outcome, ...(last.jobId ? { jobId: last.jobId } : {}), detail: last.detail } } : {}),
      };
    });
  }

  private follow(config: Config): Scheduled[] {
    // The config checked every pattern when it was loaded.
    return config.schedule.map((entry) => ({ entry, cron: new Cron(entry.cron), timer: undefined, finished: false }));
  }

  /** The entry's latest start at or before `now`. */
  private latestStart({ cron }: Scheduled, now: number): number | undefined {
    // previousRuns looks strictly before its reference: a start at `now` itself counts.
    return cron.previousRuns(1, new Date(now + 1))[0]?.getTime();
  }

  /** Sets the entry's timer for its next start after `now` (none when its cron has no more). */
  private arm(scheduled: Scheduled, now: number, target = scheduled.cron.nextRun(new Date(now))?.getTime()): void {
    clearTimeout(scheduled.timer);
    if (target === undefined || !this.started) return;
    scheduled.timer = setTimeout(() => this.wake(scheduled, target), Math.min(Math.max(target - now, 0), MAX_DELAY));
    scheduled.timer.unref();
  }

  private wake(scheduled: Scheduled, target: number): void {
    const now = this.now();
    // Woken before the start (a wait cut at MAX_DELAY, a clock set back): wait again for it.
    if (now < target) return this.arm(scheduled, now, target);
    // The latest start, not `target`: after a suspend or a stalled loop, older starts are past.
    const latest = this.latestStart(scheduled, now) ?? target;
    if (latest + windowMs(scheduled.entry) > now) this.fire(scheduled, latest, now);
    else this.options.logger.warn(`schedule ${scheduled.entry.name}: the start of ${iso(latest)} was missed and its window has closed; not run late`);
    if (!scheduled.finished) this.arm(scheduled, now);
  }

  /** The firing at `at`: one run started, skipped or failed, recorded once. */
  private fire(scheduled: Scheduled, at: number, now: number): void {
    const { entry } = scheduled;
    if (entry.until === 'complete' && this.complete(scheduled)) return this.finish(scheduled);
    // Taken already: a restart inside a window whose run this daemon started (or skipped).
    if (!this.options.store.claim(entry.name, at)) return;
    const caughtUp = now - at >= 1_000 ? `, caught up at ${iso(now)}` : '';
    const live = this.liveJob();
    if (live) return this.settle(entry, at, 'skipped', undefined, `${live}${caughtUp}`);
    const deadline = at + windowMs(entry);
    const request = RunRequestSchema.parse({
      ...entry.run,
      ...(entry.maxCost === undefined ? {} : { maxCost: entry.maxCost }),
      deadline,
      schedule: entry.name,
    });
    const starting = this.options.run(request).then(
      (job) => this.settle(entry, at, 'started', job.id, `deadline ${iso(deadline)}${caughtUp}`),
      (error: unknown) => {
        // Another job recorded between the check and the run (safety rule 7), or home Plex busy
        // with a rollback: a skip, not a failure.
        if (isPlexliftError(error, 'SAFETY_STOP') && ('running' in (error.details ?? {}) || 'busy' in (error.details ?? {})))
          return this.settle(entry, at, 'skipped', undefined, `${error.message}${caughtUp}`);
        this.settle(entry, at, 'failed', undefined, `${(error as Error).message}${caughtUp}`);
      },
    );
    this.starting.add(starting);
    void starting.finally(() => this.starting.delete(starting));
  }

  private settle(entry: ScheduleEntry, at: number, outcome: 'started' | 'skipped' | 'failed', jobId: string | undefined, detail: string): void {
    try {
      this.options.store.settle({ entry: entry.name, at, outcome, ...(jobId ? { jobId } : {}), detail });
    } catch (error) {
      // The log still says it; the row keeps "the daemon stopped before the run started".
      this.options.logger.error(`schedule ${entry.name}: could not record the start of ${iso(at)} (${(error as Error).message})`);
    }
    const line = `schedule ${entry.name}: the start of ${iso(at)} ${outcome}${jobId ? ` job ${jobId}` : ''}: ${detail}`;
    if (outcome === 'failed') this.options.logger.warn(line);
    else this.options.logger.info(line);
  }

  /** Why a run cannot start now: a job of the library is live, or another firing is starting one. */
  private liveJob(): string | undefined {
    if (this.starting.size > 0) return 'another scheduled run is starting; one job at a time';
    const library = this.options.config.home?.plexDataDir;
    const live = this.options.jobs.live().find((job) => library === undefined || job.library === library);
    return live ? `job ${live.id} is still ${live.state} on this library; one job at a time` : undefined;
  }

  /** `until: complete`: whether progress says nothing is left; a progress that cannot be read is not complete. */
  private complete(scheduled: Scheduled): boolean {
    try {
      return this.options.isComplete();
    } catch (error) {
      this.options.logger.warn(
        `schedule ${scheduled.entry.name}: could not read the progress for until: complete (${(error as Error).message}); scheduling goes on`,
      );
      return false;
    }
  }

  private finish(scheduled: Scheduled): void {
    clearTimeout(scheduled.timer);
    scheduled.timer = undefined;
    if (!scheduled.finished) this.options.logger.info(`schedule ${scheduled.entry.name}: complete, nothing is left to do; no more runs (until: complete)`);
    scheduled.finished = true;
  }
}

function windowMs(entry: ScheduleEntry): number {
  return Math.round(entry.windowHours * HOUR);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
