import { initTRPC, TRPCError } from '@trpc/server';
import { PlexliftError } from '@plexlift/shared';
import type { AgentContext } from '@plexlift/shared/protocol';
import { asTrpcError } from './trpc-errors.js';

/** Who is on the other end of a connection: an agent of one job, or an admin (the CLI, other tools). */
export interface ControllerContext extends AgentContext {
  admin: boolean;
}

const t = initTRPC.context<ControllerContext>().create({
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
