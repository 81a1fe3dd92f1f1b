import type { AgentApi } from '@plexlift/shared/protocol';
import { createAgentRouter, PROTOCOL_VERSION } from '@plexlift/shared/protocol';
import type { JobStore } from '../store/job-store.js';
import type { JobControl } from '../jobs/job-control.js';
import { createAdminRouter } from './admin-router.js';
import type { JobBus } from '../store/job-bus.js';
import { VERSION } from '../version.js';
import { z } from 'zod';
import type { DashboardSessions } from './dashboard-sessions.js';
import { adminProcedure, router, viewerProcedure, type ControllerContext } from './trpc.js';

/** Everything the controller serves over tRPC: `agent.*` for agents, `jobs.*` and `daemon.*` for the CLI and tools. */
export function createAppRouter(options: {
  gateway: AgentApi<ControllerContext>;
  jobs: JobStore;
  bus: JobBus;
  control: JobControl;
  dashboardSessions: DashboardSessions;
}) {
  return router({
    agent: createAgentRouter(options.gateway),
    jobs: createAdminRouter(options),
    daemon: router({
      /** The daemon's release (its agents' too: the daemon serves their bundle) and the agent protocol it speaks. */
      version: viewerProcedure.query(() => ({ version: VERSION, agentVersion: VERSION, protocol: PROTOCOL_VERSION, node: process.version })),
    }),
    dashboard: router({
      /** A one-time sign-in link's path (`/signin#CODE`: the code never reaches a server's log) for the dashboard, full or read-only. */
      signInLink: adminProcedure.input(z.object({ role: z.enum(['admin', 'viewer']).default('admin') })).mutation(({ input }) => {
        const { code, expiresAt } = options.dashboardSessions.createLink(input.role);
        return { path: `/signin#${code}`, role: input.role, expiresAt };
      }),
      /** Who the page is: what it may show and do. */
      whoAmI: viewerProcedure.query(({ ctx }) => ({ role: ctx.admin ? ('admin' as const) : ('viewer' as const) })),
    }),
  });
}

export type AppRouter = ReturnType<typeof createAppRouter>;
