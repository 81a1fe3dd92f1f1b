import { initTRPC, tracked, TRPCError } from '@trpc/server';
import { z } from 'zod';
import { AgentEventSchema, type AgentEvent } from '../events.js';

/**
 * The agent-facing procedures, defined here over an interface the controller implements, so
 * the agent compiles against `shared` alone (DESIGN.md, "Control plane"). The first call is
 * `hello` with the protocol version; commands flow down one subscription of `tracked()`
 * desired states, resumed with `lastEventId`; every report carries an idempotency key.
 */

/**
 * Bumped on every change an agent of the other version would misread. 2: the plex.tv claim token
 * left `agent.job`'s secrets for `agent.claim` (issue 16 item 4); an agent of 1 would start Plex
 * unclaimed, so hello refuses it.
 */
export const PROTOCOL_VERSION = 3;

/** What the controller puts in the context of an authenticated agent connection. */
export interface AgentContext {
  /** Set for an authenticated agent; `bootstrap` when it came with its one-time token. */
  agent: { jobId: string; bootstrap?: string | undefined } | undefined;
}

/** Desired state, not one-shot verbs: replaying one is harmless. */
export const AgentCommandSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('run'), jobId: z.string() }),
  z.object({ type: z.literal('pause'), jobId: z.string() }),
  z.object({ type: z.literal('abort'), jobId: z.string(), reason: z.string() }),
  /**
   * Bring the work home now (a budget's end, `plexlift land`): the long phase under way stops,
   * the long phases left are skipped, a scan finishes its section; plex-stop, export and upload
   * run as usual.
   */
  z.object({ type: z.literal('land'), jobId: z.string(), reason: z.string() }),
]);
export type AgentCommand = z.infer<typeof AgentCommandSchema>;

export const HelloInputSchema = z.object({ protocolVersion: z.number().int(), agentVersion: z.string(), jobId: z.string() });
export const ReportInputSchema = z.object({
  /** `jobId:seq`, unique per event: the controller stores each key once. */
  key: z.string().min(1),
  event: AgentEventSchema,
});

/**
 * What the agent needs to run its job, fetched once connected: the spec, and the secrets that
 * never travel in cloud-init user data (storage credentials as an rclone config), plus where
 * the data plane lives and its session token. The plex.tv claim token is not among them: it
 * comes from `claim`, once per Plex start.
 */
export const AgentJobSchema = z.object({
  spec: z.unknown(),
  secrets: z.object({
    rcloneConfig: z.string().optional(),
  }),
  transfers: z.object({ baseUrl: z.string(), token: z.string(), restoreId: z.string().optional(), exportId: z.string() }),
});
export type AgentJob = z.infer<typeof AgentJobSchema>;

/**
 * A plex.tv claim token for the Plex the agent is starting (it lives minutes and works once):
 * minted at most once per `plex-start` attempt, refused outside that phase. No token when home
 * has no plex.tv account to claim with.
 */
export const AgentClaimSchema = z.object({ claimToken: z.string().optional() });
export type AgentClaim = z.infer<typeof AgentClaimSchema>;

export interface AgentApi<Ctx extends AgentContext = AgentContext> {
  /** The job this agent was started for. */
  job(ctx: Ctx): Promise<AgentJob>;
  /**
   * The claim token for the Plex being started: asked in `plex-start` once its `phase:start`
   * reached home; the same token for the same attempt, refused once the phase completed.
   */
  claim(ctx: Ctx): Promise<AgentClaim>;
  /**
   * The first call. An agent that came with its one-time bootstrap token gets the session token
   * it uses from then on (on every reconnect); the bootstrap token is spent.
   */
  hello(ctx: Ctx, input: z.infer<typeof HelloInputSchema>): Promise<{ protocolVersion: number; sessionToken?: string }>;
  /** Commands after `lastEventId`, then live ones until `signal` aborts. */
  commands(ctx: Ctx, lastEventId: string | undefined, signal: AbortSignal): AsyncIterable<{ id: string; command: AgentCommand }>;
  /**
   * Stores the event unless its key was seen; `duplicate` tells which. `dropped`: home took it but
   * did not keep it (the job's agent passed its quota of logs, progress and CPU samples).
   */
  report(ctx: Ctx, input: { key: string; event: AgentEvent }): Promise<{ duplicate: boolean; dropped?: boolean }>;
}

// No stack traces on the wire (a stand-in home too), whatever NODE_ENV says.
const t = initTRPC.context<AgentContext>().create({ isDev: false });

const agentProcedure = t.procedure.use(({ ctx, next }) => {
  if (!ctx.agent) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'agent not authenticated' });
  return next({ ctx: { ...ctx, agent: ctx.agent } });
});

/** The router the controller mounts as `agent`. */
export function createAgentRouter<Ctx extends AgentContext>(api: AgentApi<Ctx>) {
  return t.router({
    hello: agentProcedure.input(HelloInputSchema).mutation(async ({ ctx, input }) => {
      if (input.protocolVersion !== PROTOCOL_VERSION) {
        throw new TRPCError({
          code: 'PRECONDITION_FAILED',
          message: `protocol version mismatch: the agent speaks ${input.protocolVersion}, the controller ${PROTOCOL_VERSION}; update the one that is behind`,
        });
      }
      return api.hello(ctx as Ctx, input);
    }),
    commands: agentProcedure.input(z.object({ lastEventId: z.string().nullish() }).optional()).subscription(async function* ({ ctx, input, signal }) {
      for await (const { id, command } of api.commands(ctx as Ctx, input?.lastEventId ?? undefined, signal ?? new AbortController().signal)) {
        yield tracked(id, command);
      }
    }),
    report: agentProcedure.input(ReportInputSchema).mutation(({ ctx, input }) => api.report(ctx as Ctx, input)),
    job: agentProcedure.query(({ ctx }) => api.job(ctx as Ctx)),
    claim: agentProcedure.mutation(({ ctx }) => api.claim(ctx as Ctx)),
  });
}

export type AgentRouter = ReturnType<typeof createAgentRouter>;

/**
 * The agent procedures where the controller mounts them (`agent.*` of its AppRouter): what an
 * agent's client is typed against, and what a stand-in home serves.
 */
export function createAgentRootRouter<Ctx extends AgentContext>(api: AgentApi<Ctx>) {
  return t.router({ agent: createAgentRouter(api) });
}

export type AgentRootRouter = ReturnType<typeof createAgentRootRouter>;
