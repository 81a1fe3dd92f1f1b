import { initTRPC, TRPCError } from '@trpc/server';
import type { AgentContext } from '@plexlift/shared/protocol';

/** Who is on the other end of a connection: an agent of one job, or an admin (the CLI, other tools). */
export interface ControllerContext extends AgentContext {
  admin: boolean;
}

const t = initTRPC.context<ControllerContext>().create();

export const router = t.router;

/** Procedures for the CLI and other tools: the admin token only. */
export const adminProcedure = t.procedure.use(({ ctx, next }) => {
  if (!ctx.admin) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'this needs the admin token' });
  return next();
});
