import { TRPCError } from '@trpc/server';
import { AGENT_PHASE_NAMES, PROTOCOL_VERSION, type AgentApi, type AgentEvent, type AgentJob } from '@plexlift/shared/protocol';
import type { ClaimAnswer } from '../jobs/plex-claims.js';
import type { JobStore } from '../store/job-store.js';
import { isFinal } from '@plexlift/shared';
import type { TokenStore } from '../store/token-store.js';
import type { JobBus } from '../store/job-bus.js';
import { EventQuotas, type EventQuota } from './event-quota.js';
import type { ControllerContext } from './trpc.js';

export interface AgentGatewayOptions {
  jobs: JobStore;
  tokens: TokenStore;
  bus: JobBus;
  /** The job, its just-in-time secrets and its data plane, prepared by whoever runs the job. */
  agentJob: (jobId: string) => Promise<AgentJob>;
  /** A plex.tv claim for the Plex the agent is starting, once per plex-start; none when absent. */
  agentClaim?: (jobId: string) => Promise<ClaimAnswer>;
  /** An agent said hello (provisioning is over when it does). */
  onHello?: (jobId: string, agentVersion: string) => void;
  /** An agent is connected (after its hello, and after each reconnect, a restarted controller's too). */
  onConnect?: (jobId: string) => void;
  /** @default EVENT_QUOTA_DEFAULTS */
  eventQuota?: EventQuota;
}

type AgentCall = keyof AgentApi;

const AGENT_PHASES: ReadonlySet<string> = new Set(AGENT_PHASE_NAMES);

/**
 * The controller's side of the agent protocol (`AgentApi` in shared): bootstrap token exchanged
 * once for a session token, commands from the persisted outbox resumed after `lastEventId`,
 * reports stored once per idempotency key.
 */
export function createAgentGateway(options: AgentGatewayOptions): AgentApi<ControllerContext> {
  const quotas = new EventQuotas(options.jobs, options.eventQuota);
  /**
   * The job of a call, checked on every call rather than once per socket (issue 16 item 4): a
   * bootstrap token may only say hello, a token spent or revoked since the socket opened stops
   * working, and so does any token of a job that is over.
   */
  const jobOf = (ctx: ControllerContext, call: AgentCall) => {
    const agent = ctx.agent!;
    if (agent.kind === 'bootstrap' && call !== 'hello') {
      throw new TRPCError({ code: 'UNAUTHORIZED', message: `a bootstrap token may only say hello; ${call} needs the session token hello gives` });
    }
    const check = options.tokens.check(agent.token, [agent.kind]);
    if (!check.ok || check.jobId !== agent.jobId) {
      throw new TRPCError({ code: 'UNAUTHORIZED', message: `this ${agent.kind} token is ${check.ok ? 'not for this job' : check.reason}` });
    }
    const job = options.jobs.get(agent.jobId);
    if (!job || isFinal(job.state)) throw new TRPCError({ code: 'NOT_FOUND', message: `job ${agent.jobId} is not running` });
    return job;
  };
  /** Past the quota, the agent's chatter is dropped and the log says so once. */
  const noteQuota = (jobId: string) => {
    const note: AgentEvent = {
      type: 'log',
      level: 'warn',
      message: `the agent sent more than ${quotas.describe()}: its later logs, progress and CPU samples are not kept`,
    };
    const stored = options.jobs.appendEvent(jobId, 'controller:event-quota', note);
    if (stored) options.bus.eventStored(stored);
  };
  return {
    hello: (ctx, input) => {
      const job = jobOf(ctx, 'hello');
      if (input.jobId !== job.id) throw new TRPCError({ code: 'FORBIDDEN', message: `this token belongs to job ${job.id}, not ${input.jobId}` });
      let sessionToken: string | undefined;
      const agent = ctx.agent!;
      if (agent.kind === 'bootstrap') {
        // Spent here, once: a second hello with it (a replay, another socket) is refused.
        if (!options.tokens.consume(agent.token)) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'bootstrap token already used' });
        sessionToken = options.tokens.issue(job.id, 'session');
        // The socket's own session object: its later calls go with the session token.
        agent.kind = 'session';
        agent.token = sessionToken;
      }
      options.onHello?.(job.id, input.agentVersion);
      return Promise.resolve({ protocolVersion: PROTOCOL_VERSION, ...(sessionToken ? { sessionToken } : {}) });
    },
    job: async (ctx) => options.agentJob(jobOf(ctx, 'job').id),
    claim: async (ctx) => {
      const jobId = jobOf(ctx, 'claim').id;
      if (!options.agentClaim) return {};
      const answer = await options.agentClaim(jobId);
      if (!answer.ok) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: answer.reason });
      return answer.claim;
    },
    async *commands(ctx, lastEventId, signal) {
      const jobId = jobOf(ctx, 'commands').id;
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
      const jobId = jobOf(ctx, 'report').id;
      if (!input.key.startsWith(`${jobId}:`)) throw new TRPCError({ code: 'BAD_REQUEST', message: `report keys of this agent start with "${jobId}:"` });
      const { event } = input;
      // provision, teardown and install are the controller's: a forged teardown completion
      // would skip the VM's deletion (issue 16 item 5).
      if ('phase' in event && !AGENT_PHASES.has(event.phase)) {
        throw new TRPCError({ code: 'BAD_REQUEST', message: `event.phase: "${event.phase}" is run by the controller; an agent reports only its own phases` });
      }
      options.onConnect?.(jobId);
      const verdict = quotas.verdict(jobId, event);
      if (verdict === 'refuse') {
        throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: `job ${jobId}: the agent sent more events than its phases can explain; refused` });
      }
      if (verdict === 'drop') {
        noteQuota(jobId);
        return Promise.resolve({ duplicate: false, dropped: true });
      }
      const stored = options.jobs.appendEvent(jobId, input.key, event);
      if (stored) {
        quotas.stored(jobId, event);
        options.bus.eventStored(stored);
      }
      return Promise.resolve({ duplicate: stored === undefined });
    },
  };
}
