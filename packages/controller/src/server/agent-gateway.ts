import { TRPCError } from '@trpc/server';
import { PROTOCOL_VERSION, type AgentApi, type AgentJob } from '@plexlift/shared/protocol';
import type { JobStore } from '../store/job-store.js';
import { isFinal } from '@plexlift/shared';
import type { TokenStore } from '../store/token-store.js';
import type { JobBus } from '../store/job-bus.js';
import type { ControllerContext } from './trpc.js';

export interface AgentGatewayOptions {
  jobs: JobStore;
  tokens: TokenStore;
  bus: JobBus;
  /** The job, its just-in-time secrets and its data plane, prepared by whoever runs the job. */
  agentJob: (jobId: string) => Promise<AgentJob>;
  /** An agent said hello (provisioning is over when it does). */
  onHello?: (jobId: string, agentVersion: string) => void;
  /** An agent is connected (after its hello, and after each reconnect, a restarted controller's too). */
  onConnect?: (jobId: string) => void;
}

/**
 * The controller's side of the agent protocol (`AgentApi` in shared): bootstrap token exchanged
 * once for a session token, commands from the persisted outbox resumed after `lastEventId`,
 * reports stored once per idempotency key.
 */
export function createAgentGateway(options: AgentGatewayOptions): AgentApi<ControllerContext> {
  const jobOf = (ctx: ControllerContext) => {
    const jobId = ctx.agent!.jobId;
    const job = options.jobs.get(jobId);
    if (!job || isFinal(job.state)) throw new TRPCError({ code: 'NOT_FOUND', message: `job ${jobId} is not running` });
    return job;
  };
  return {
    hello: (ctx, input) => {
      const job = jobOf(ctx);
      if (input.jobId !== job.id) throw new TRPCError({ code: 'FORBIDDEN', message: `this token belongs to job ${job.id}, not ${input.jobId}` });
      let sessionToken: string | undefined;
      const bootstrap = ctx.agent!.bootstrap;
      if (bootstrap) {
        // Spent here, once: a second hello with it (a replay) is refused.
        if (!options.tokens.consume(bootstrap)) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'bootstrap token already used' });
        sessionToken = options.tokens.issue(job.id, 'session');
        ctx.agent = { jobId: job.id };
      }
      options.onHello?.(job.id, input.agentVersion);
      return Promise.resolve({ protocolVersion: PROTOCOL_VERSION, ...(sessionToken ? { sessionToken } : {}) });
    },
    job: (ctx) => options.agentJob(jobOf(ctx).id),
    async *commands(ctx, lastEventId, signal) {
      const jobId = ctx.agent!.jobId;
      // Subscribed after hello and again after every reconnect: the agent is there.
      options.onConnect?.(jobId);
      // Listen first, then read the backlog, then follow: nothing slips in between.
      const wakes = options.bus.commands(jobId, signal);
      let after = lastEventId === undefined ? 0 : Number(lastEventId);
      for (const entry of options.jobs.commands(jobId, after)) {
        after = entry.id;
        yield { id: String(entry.id), command: entry.command };
      }
      for await (const wake of wakes) {
        void wake;
        for (const entry of options.jobs.commands(jobId, after)) {
          after = entry.id;
          yield { id: String(entry.id), command: entry.command };
        }
      }
    },
    report: (ctx, input) => {
      const jobId = ctx.agent!.jobId;
      if (!input.key.startsWith(`${jobId}:`)) throw new TRPCError({ code: 'BAD_REQUEST', message: `report keys of this agent start with "${jobId}:"` });
      options.onConnect?.(jobId);
      const stored = options.jobs.appendEvent(jobId, input.key, input.event);
      if (stored) options.bus.eventStored(stored);
      return Promise.resolve({ duplicate: stored === undefined });
    },
  };
}
