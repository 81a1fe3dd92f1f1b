import { EventEmitter, on } from 'node:events';
import type { TransferRecord } from '../transfers/transfer-store.js';
import type { StoredEvent } from './job-store.js';

/**
 * In-process notifications that something was stored: a job's new event, a new command for
 * its agent. The store is the truth; subscribers listen first, then read the backlog from the
 * store, then follow the bus, so nothing slips between the two (tRPC's own advice).
 */
export class JobBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  eventStored(event: StoredEvent): void {
    this.emitter.emit(`event:${event.jobId}`, event);
    this.emitter.emit('event', event);
  }

  /** Calls `listener` for each stored event of every job; returns what stops it. */
  onEventStored(listener: (event: StoredEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  commandQueued(jobId: string): void {
    this.emitter.emit(`command:${jobId}`);
  }

  /** A transfer's whole digest matched: for an export, home holds the job's work. */
  transferVerified(transfer: TransferRecord): void {
    this.emitter.emit('transfer:verified', transfer);
  }

  /** Calls `listener` for each verified transfer; returns what stops it. */
  onTransferVerified(listener: (transfer: TransferRecord) => void): () => void {
    this.emitter.on('transfer:verified', listener);
    return () => this.emitter.off('transfer:verified', listener);
  }

  /** Live events of one job (or every job), until `signal` aborts. */
  async *events(jobId: string | undefined, signal: AbortSignal): AsyncGenerator<StoredEvent> {
    try {
      for await (const [event] of on(this.emitter, jobId ? `event:${jobId}` : 'event', { signal })) yield event as StoredEvent;
    } catch (error) {
      if (!signal.aborted) throw error;
    }
  }

  /** Wakes once per queued command of a job, until `signal` aborts. */
  async *commands(jobId: string, signal: AbortSignal): AsyncGenerator<void> {
    try {
      // Each wake-up carries nothing: the reader reads the store.
      for await (const wake of on(this.emitter, `command:${jobId}`, { signal })) yield void wake;
    } catch (error) {
      if (!signal.aborted) throw error;
    }
  }
}
