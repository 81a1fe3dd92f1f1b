import { PlexliftError } from '@plexlift/shared';
import type { AgentEvent } from '@plexlift/shared/protocol';
import type { JobBus } from '../store/job-bus.js';
import type { JobState } from '@plexlift/shared';
import type { JobRecord, JobStore, StateChanges } from '../store/job-store.js';

/**
 * What the controller itself writes into a job's history: its own phase events (stored and
 * broadcast like an agent's) and the job's moves from state to state.
 */
export class JobJournal {
  private sequence = 0;

  constructor(
    readonly jobs: JobStore,
    private readonly bus: JobBus,
  ) {}

  event(jobId: string, event: AgentEvent): void {
    const stored = this.jobs.appendEvent(jobId, `controller:${Date.now()}:${(this.sequence += 1)}`, event);
    if (stored) this.bus.eventStored(stored);
  }

  /** Moves the job as it is now in the store; another writer having moved it first is a bug. */
  move(job: JobRecord, from: JobState, to: JobState, changes: StateChanges = {}): JobRecord {
    const moved = this.jobs.transition(this.jobs.get(job.id) ?? job, from, to, changes);
    if (!moved) throw new PlexliftError('UNEXPECTED', `job ${job.id} changed under this controller (expected ${from})`);
    return moved;
  }

  /** Queues an abort for the job's agent (it stops Plex and its phases). */
  commandAbort(jobId: string, reason: string): void {
    this.jobs.pushCommand(jobId, { type: 'abort', jobId, reason });
    this.bus.commandQueued(jobId);
  }

  /** Queues a landing for the job's agent (it brings its work so far home). */
  commandLand(jobId: string, reason: string): void {
    this.jobs.pushCommand(jobId, { type: 'land', jobId, reason });
    this.bus.commandQueued(jobId);
  }

  /** Ends the job `failed` (or `aborted`) from whatever state it is in now. */
  end(jobId: string, failure: PlexliftError): void {
    const current = this.jobs.get(jobId)!;
    this.jobs.transition(current, current.state, failure.code === 'JOB_ABORTED' ? 'aborted' : 'failed', {
      error: { code: failure.code, message: failure.message },
    });
  }
}
