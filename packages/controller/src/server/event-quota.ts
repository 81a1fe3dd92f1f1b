import type { AgentEvent } from '@plexlift/shared/protocol';
import type { JobStore } from '../store/job-store.js';

/** What an agent may store per job (issue 16 item 14: ten 20 MiB log events grew the store 231 MB). */
export interface EventQuota {
  /** Events of the agent kept per job; past it, its logs, progress and CPU samples are dropped. @default 100_000 */
  events: number;
  /** Bytes of those events (their JSON); the same. @default 32 MiB */
  bytes: number;
}

export const EVENT_QUOTA_DEFAULTS: EventQuota = { events: 100_000, bytes: 32 * 1024 * 1024 };

/**
 * Phase events past the quota: still kept (the job's state depends on them), up to this many
 * more; an agent that sends more than a job's phases can explain is refused.
 */
const PHASE_EVENT_ALLOWANCE = 1_000;

/** What becomes of an agent's event: stored, dropped (chatter past the quota) or refused. */
export type QuotaVerdict = 'store' | 'drop' | 'refuse';

/**
 * Counts each job's stored agent events (read once from the store, then kept in memory) and
 * says whether the next one may be stored.
 */
export class EventQuotas {
  private readonly usage = new Map<string, { events: number; bytes: number }>();

  constructor(
    private readonly jobs: JobStore,
    private readonly quota: EventQuota = EVENT_QUOTA_DEFAULTS,
  ) {}

  verdict(jobId: string, event: AgentEvent): QuotaVerdict {
    const used = this.usageOf(jobId);
    const bytes = Buffer.byteLength(JSON.stringify(event));
    if (used.events + 1 <= this.quota.events && used.bytes + bytes <= this.quota.bytes) return 'store';
    if (!event.type.startsWith('phase:') || event.type === 'phase:progress') return 'drop';
    return used.events + 1 <= this.quota.events + PHASE_EVENT_ALLOWANCE ? 'store' : 'refuse';
  }

  /** An event was stored: counted. */
  stored(jobId: string, event: AgentEvent): void {
    const used = this.usageOf(jobId);
    used.events += 1;
    used.bytes += Buffer.byteLength(JSON.stringify(event));
  }

  describe(): string {
    return `${this.quota.events} events or ${Math.round(this.quota.bytes / 1024 / 1024)} MiB`;
  }

  private usageOf(jobId: string): { events: number; bytes: number } {
    let used = this.usage.get(jobId);
    if (!used) {
      used = this.jobs.agentEventUsage(jobId);
      this.usage.set(jobId, used);
    }
    return used;
  }
}
