import { isFinal, PlexliftError } from '@plexlift/shared';
import type { AgentEvent } from '@plexlift/shared/protocol';
import type { JobState } from '@plexlift/shared';
import type { Logger } from '../logger.js';
import type { Notifier } from '../notify/notifier.js';
import type { JobBus } from '../store/job-bus.js';
import type { JobRecord, JobStore, StateChanges } from '../store/job-store.js';

/**
 * What the controller itself writes into a job's history: its own phase events (stored and
 * broadcast like an agent's) and the job's moves from state to state. The daemon's log gets one
 * line for each thing an operator looks for: a start, a phase that failed, an abort or a cap, a
 * landing, an end with its outcome, time and cost.
 */
export class JobJournal {
  private sequence = 0;

  constructor(
    readonly jobs: JobStore,
    private readonly bus: JobBus,
    private readonly logger: Logger,
    private readonly notifier?: Notifier,
  ) {}

  /** Logs every phase that fails, the agent's and the controller's alike; returns what stops it. */
  logFailures(): () => void {
    return this.bus.onEventStored(({ jobId, event }) => {
      if (event.type === 'phase:fail') this.logger.forJob(jobId).warn(`${event.phase} failed (${event.code}): ${event.message}`);
    });
  }

  started(job: JobRecord, hourlyPrice: number): void {
    const sections = job.spec.sections.length > 0 ? job.spec.sections.join(', ') : 'every section';
    this.logger
      .forJob(job.id)
      .info(`started: a ${job.spec.mode} job on ${job.provider} (${sections}), ${hourlyPrice > 0 ? `${hourlyPrice} €/h` : 'nothing to pay'}`);
  }

  event(jobId: string, event: AgentEvent): void {
    const stored = this.jobs.appendEvent(jobId, `controller:${Date.now()}:${(this.sequence += 1)}`, event);
    if (stored) this.bus.eventStored(stored);
  }

  /** Moves the job as it is now in the store; another writer having moved it first is a bug. */
  move(job: JobRecord, from: JobState, to: JobState, changes: StateChanges = {}): JobRecord {
    const moved = this.jobs.transition(this.jobs.get(job.id) ?? job, from, to, changes);
    if (!moved) throw new PlexliftError('UNEXPECTED', `job ${job.id} changed under this controller (expected ${from})`);
    if (isFinal(to)) this.logEnd(moved);
    return moved;
  }

  /** Queues an abort for the job's agent (it stops Plex and its phases). */
  commandAbort(jobId: string, reason: string): void {
    this.logger.forJob(jobId).warn(`stopping: ${reason}; its machine is deleted, nothing is installed`);
    this.jobs.pushCommand(jobId, { type: 'abort', jobId, reason });
    this.bus.commandQueued(jobId);
  }

  /** Queues a landing for the job's agent (it brings its work so far home). */
  commandLand(jobId: string, reason: string): void {
    this.logger.forJob(jobId).info(`landing: ${reason}; its work so far comes home`);
    this.notifier?.notify({
      event: 'job:landing',
      jobId,
      title: `plexlift: job ${jobId} is landing`,
      text: `Job ${jobId} is landing (${reason}): what it did so far comes home and is installed. Run again to continue.`,
      details: { reason },
    });
    this.jobs.pushCommand(jobId, { type: 'land', jobId, reason });
    this.bus.commandQueued(jobId);
  }

  /** Ends the job `failed` (or `aborted`) from whatever state it is in now. */
  end(jobId: string, failure: PlexliftError): void {
    const current = this.jobs.get(jobId)!;
    const ended = this.jobs.transition(current, current.state, failure.code === 'JOB_ABORTED' ? 'aborted' : 'failed', {
      error: { code: failure.code, message: failure.message },
    });
    if (ended) this.logEnd(ended);
  }

  /** `ended done in 1.52 h, ≈ 0.32 €` (or failed, with its code and reason). */
  private logEnd(job: JobRecord): void {
    const hours = job.report?.hours ?? ((job.finishedAt ?? Date.now()) - job.createdAt) / 3_600_000;
    const price = typeof job.resource?.hourlyPrice === 'number' ? job.resource.hourlyPrice : undefined;
    const cost = job.report?.cost ?? (price === undefined ? undefined : hours * price);
    const spent = `in ${hours.toFixed(2)} h${cost ? `, ≈ ${cost.toFixed(2)} €` : ''}`;
    const log = this.logger.forJob(job.id);
    const landed = job.state === 'done' && job.report?.landed !== undefined;
    if (job.state === 'done') log.info(`ended done${landed ? ' (landed: run again to continue)' : ''} ${spent}`);
    else log.warn(`ended ${job.state} ${spent}${job.error ? `: ${job.error.code}: ${job.error.message}` : ''}`);
    const what = `A ${job.spec.mode} job on ${job.provider} ended ${job.state} ${spent}.`;
    this.notifier?.notify({
      event: job.state === 'done' ? 'job:done' : 'job:failed',
      jobId: job.id,
      title: `plexlift: job ${job.id} ${job.state}${landed ? ' (landed)' : ''}`,
      text:
        job.state === 'done'
          ? `${what}${landed ? ' It landed: its work so far is installed; run again to continue.' : ' Its work is installed.'}`
          : `${what}${job.error ? ` ${job.error.code}: ${job.error.message}` : ''} Its machine is deleted; see plexlift logs ${job.id}.`,
      details: { state: job.state, hours, ...(cost ? { cost } : {}), ...(job.error ? { error: job.error } : {}), ...(landed ? { landed: true } : {}) },
    });
  }
}
