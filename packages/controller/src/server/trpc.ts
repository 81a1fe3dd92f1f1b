import { initTRPC, TRPCError } from '@trpc/server';
import { PlexliftError } from '@plexlift/shared';
import type { AgentContext } from '@plexlift/shared/protocol';
import { asTrpcError } from './trpc-errors.js';

/**
 * An agent's connection: its job and the token it came with. The gateway re-checks the token on
 * every call, and turns a bootstrap session into a session one in place when `hello` spends it
 * (the object lives as long as the socket).
 */
export interface AgentSession {
  jobId: string;
  token: string;
  kind: 'bootstrap' | 'session';
}

/** Who is on the other end of a connection: an agent of one job, or an admin (the CLI, other tools). */
export interface ControllerContext extends AgentContext {
  admin: boolean;
  /** May read jobs and their events: the admin, or a dashboard session (a read-only one too). */
  viewer?: boolean;
  /** The dashboard session a browser's socket came with (its sockets close when it ends). */
  dashboardSessionId?: string;
  agent: AgentSession | undefined;
}

const t = initTRPC.context<ControllerContext>().create({
  // No stack traces on the wire (they name the daemon's paths), whatever NODE_ENV says.
  isDev: false,
  // A PlexliftError keeps its own code on the way to the CLI (and so its exit status).
  errorFormatter: ({ shape, error }) => ({
    ...shape,
    data: { ...shape.data, plexliftCode: error.cause instanceof PlexliftError ? error.cause.code : undefined },
  }),
});

export const router = t.router;

/**
 * Procedures for the CLI and other tools: the admin token only. A PlexliftError thrown below
 * travels with the tRPC code of its kind (a bad argument is not a server fault).
 */
export const adminProcedure = t.procedure.use(async ({ ctx, next }) => {
  if (!ctx.admin) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'this needs the admin token' });
  const result = await next();
  if (!result.ok && result.error.cause instanceof PlexliftError) throw asTrpcError(result.error.cause);
  return result;
});

/** Procedures that only read (jobs, their events, the schedule): the admin, or a dashboard session of either role. */
export const viewerProcedure = t.procedure.use(async ({ ctx, next }) => {
  if (!ctx.admin && !ctx.viewer) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'this needs the admin token or a dashboard session' });
  const result = await next();
  if (!result.ok && result.error.cause instanceof PlexliftError) throw asTrpcError(result.error.cause);
  return result;
});

/** A control this controller was started without (a test controller) is said so. */
export function needs<T extends (...args: never[]) => unknown>(fn: T | undefined, what: string): T {
  if (!fn) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: `this controller does not ${what}` });
  return fn;
}
