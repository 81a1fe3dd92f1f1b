import { setTimeout as sleep } from 'node:timers/promises';
import { ERROR_CODES, PlexliftError, type ErrorCode } from '@plexlift/shared';
import type { Provider } from '../providers/provider.js';
import type { JobBus } from '../store/job-bus.js';
import type { JobStore } from '../store/job-store.js';

/** How the runner learns that a job's agent failed, went silent or is gone. */
export class AgentWatch {
  constructor(
    private readonly jobs: JobStore,
    private readonly bus: JobBus,
  ) {}

  /** Rejects when the agent reports a failed phase, or its machine is gone, or the job is aborted. */
  async agentFailure(jobId: string, provider: Provider, signal: AbortSignal): Promise<never> {
    const failed = (async () => {
      for await (const stored of this.bus.events(jobId, signal)) {
        if (stored.event.type === 'phase:fail') {
          const code = stored.event.code in ERROR_CODES ? (stored.event.code as ErrorCode) : 'UNEXPECTED';
          // Already in the log as the agent's own phase:fail: the controller does not repeat it.
          throw new PlexliftError(code, `${stored.event.phase}: ${stored.event.message}`, { details: { reportedBy: 'agent' } });
        }
      }
      throw signal.reason as Error;
    })();
    return Promise.race([failed, this.machineGone(jobId, provider, signal, 'the agent stopped before the archive was home')]);
  }

  /** Waits (up to `timeoutMs`) for the agent's last word, its upload complete, before its machine goes. */
  async uploadReported(jobId: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    const done = () => this.jobs.events(jobId, { types: ['phase:complete'] }).some((e) => e.event.type === 'phase:complete' && e.event.phase === 'upload');
    for (const until = Date.now() + timeoutMs; !done() && Date.now() < until;) await sleep(100, undefined, { signal, ref: false });
  }

  /** Rejects once the provider no longer finds the job's machine (checked every 2 s). */
  async machineGone(jobId: string, provider: Provider, signal: AbortSignal, what: string): Promise<never> {
    for (;;) {
      await sleep(2_000, undefined, { signal, ref: false });
      const resource = this.jobs.get(jobId)?.resource;
      const status = resource ? await provider.status(resource, signal) : undefined;
      if (status && !status.exists) {
        await sleep(2_000, undefined, { signal, ref: false }); // its last reports may still be on the way
        throw new PlexliftError('UNEXPECTED', `${what} (${status.detail}); see plexlift logs ${jobId}`);
      }
    }
  }
}
