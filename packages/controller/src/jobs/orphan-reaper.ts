import type { Logger } from '../logger.js';
import type { Notifier } from '../notify/notifier.js';
import type { Provider, ProviderResource } from '../providers/provider.js';
import { isFinal, PlexliftError } from '@plexlift/shared';
import { raceSignal } from '@plexlift/shared/retry';
import type { JobStore } from '../store/job-store.js';

/** One thing a provider made, as `plexlift vms` shows it and the reaper judges it. */
export interface Holding {
  provider: Provider['name'];
  jobId: string;
  resource: ProviderResource;
  /** The job's state in the store; undefined when the store has no such job. */
  jobState: string | undefined;
  /** A live job owns it: the runner takes care of it. */
  owned: boolean;
  /** What it is, in a few words. */
  description: string;
  /** When it was made (the provider's date, else the job's start), ms since the epoch. */
  createdAt: number | undefined;
}

export type ReapAction = 'owned' | 'marked' | 'deleted' | 'would-mark' | 'would-delete' | 'failed';

export interface ReapOutcome extends Holding {
  action: ReapAction;
  detail: string;
}

export interface OrphanReaperOptions {
  providers: Partial<Record<Provider['name'], Provider>>;
  jobs: JobStore;
  logger: Logger;
  /** Who is told of each deletion. */
  notifier?: Notifier;
}

/**
 * Finds what the providers made that no live job owns (a crash between a create and its record,
 * a teardown that failed, a job deleted from the store) and deletes it, in two passes: a first
 * pass marks, the next one deletes what is still unowned after a last look at the job store, so
 * a job that is just starting is never mistaken for an orphan.
 */
export class OrphanReaper {
  private readonly marks = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ReapOutcome[]> | undefined;
  private readonly stopping = new AbortController();

  constructor(private readonly options: OrphanReaperOptions) {}

  /** Everything every provider holds, with its job and whether a live job owns it. */
  async holdings(): Promise<Holding[]> {
    const found: Holding[] = [];
    for (const provider of Object.values(this.options.providers)) {
      for (const { jobId, resource } of await provider.list()) {
        const job = this.options.jobs.get(jobId);
        const made = typeof resource.createdAt === 'string' ? Date.parse(resource.createdAt) : job?.createdAt;
        found.push({
          provider: provider.name,
          jobId,
          resource,
          jobState: job?.state,
          owned: job !== undefined && !isFinal(job.state),
          description: provider.describe(resource),
          createdAt: made,
        });
      }
    }
    return found;
  }

  /** One pass; `dryRun` says what it would do and changes nothing (not even the marks). */
  pass(options: { dryRun?: boolean } = {}): Promise<ReapOutcome[]> {
    // Two passes never overlap (the periodic one and `plexlift reap`).
    const run = (this.running ?? Promise.resolve([])).then(() => this.onePass(options.dryRun ?? false));
    this.running = run.catch(() => []);
    return run;
  }

  start(intervalMs: number): void {
    const tick = () =>
      void this.pass().catch((error: unknown) =>
        this.options.logger.warn(`orphan sweep failed: ${(error as Error).message}; it runs again in ${Math.round(intervalMs / 60_000)} min`),
      );
    tick();
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
  }

  /**
   * No more passes; a teardown under way stops waiting (the daemon is stopping: its orphan is
   * still there at the next start, and the next pass deletes it). Resolves once the pass has ended.
   */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.stopping.abort(new PlexliftError('UNEXPECTED', 'the daemon is stopping'));
    await this.running;
  }

  private async onePass(dryRun: boolean): Promise<ReapOutcome[]> {
    const outcomes: ReapOutcome[] = [];
    const seen = new Set<string>();
    for (const holding of await this.holdings()) {
      const key = `${holding.provider}/${holding.jobId}`;
      seen.add(key);
      if (holding.owned) {
        // Owned again: a later loss of its job starts over from a mark.
        if (!dryRun) this.marks.delete(key);
        outcomes.push({ ...holding, action: 'owned', detail: `job ${holding.jobId} is ${holding.jobState ?? '?'}` });
        continue;
      }
      const why = holding.jobState ? `job ${holding.jobId} is ${holding.jobState}` : `no job ${holding.jobId} in the store`;
      if (!this.marks.has(key)) {
        if (!dryRun) this.marks.set(key, Date.now());
        outcomes.push({ ...holding, action: dryRun ? 'would-mark' : 'marked', detail: `${why}; deleted at the next pass if still unowned` });
        continue;
      }
      // The last look: a job may have taken it up since the mark.
      const job = this.options.jobs.get(holding.jobId);
      if (job && !isFinal(job.state)) {
        this.marks.delete(key);
        outcomes.push({ ...holding, owned: true, jobState: job.state, action: 'owned', detail: `job ${holding.jobId} is ${job.state}` });
        continue;
      }
      if (dryRun) {
        outcomes.push({ ...holding, action: 'would-delete', detail: why });
        continue;
      }
      try {
        const stopping = this.stopping.signal;
        await raceSignal(this.options.providers[holding.provider]!.teardown(holding.resource, { keep: false, signal: stopping }), stopping);
        this.marks.delete(key);
        this.options.logger.warn(`deleted an orphan of ${holding.provider} (${why})`);
        this.options.notifier?.notify({
          event: 'reaper:deleted',
          jobId: holding.jobId,
          title: `plexlift: the reaper deleted an orphan of ${holding.provider}`,
          text: `The reaper deleted what ${holding.provider} still held and no live job owns (${why}).`,
          details: { provider: holding.provider, reason: why },
        });
        outcomes.push({ ...holding, action: 'deleted', detail: why });
      } catch (error) {
        this.options.logger.error(`could not delete an orphan of ${holding.provider} (${why}): ${(error as Error).message}`);
        outcomes.push({ ...holding, action: 'failed', detail: (error as Error).message });
      }
    }
    if (!dryRun) for (const key of this.marks.keys()) if (!seen.has(key)) this.marks.delete(key);
    return outcomes;
  }
}
