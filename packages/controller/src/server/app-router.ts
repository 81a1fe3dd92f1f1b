import type { AgentApi } from '@plexlift/shared/protocol';
import { createAgentRouter, PROTOCOL_VERSION } from '@plexlift/shared/protocol';
import type { JobStore } from '../store/job-store.js';
import type { JobControl } from '../jobs/job-control.js';
import { createAdminRouter } from './admin-router.js';
import type { JobBus } from '../store/job-bus.js';
import { VERSION } from '../version.js';
import { PlexliftError } from '@plexlift/shared';
import { z } from 'zod';
import type { DashboardSessions } from './dashboard-sessions.js';
import { adminProcedure, needs, router, viewerProcedure, type ControllerContext } from './trpc.js';

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
      /** The doctor's checks from the daemon's side (its config, its disk, its providers); admin only: each asks plex.tv and the cloud API. */
      doctor: adminProcedure.query(() => needs(options.control.doctor, 'run the doctor')()),
    }),
    home: router({
      /** The backups installs made, newest first. */
      backups: viewerProcedure.query(() => needs(options.control.backups, 'keep backups')()),
      /** Puts a backup back into home Plex (the newest unless one is named): Plex is stopped and started. */
      rollback: adminProcedure
        .input(z.object({ backup: z.string().min(1).max(300).optional() }))
        .mutation(({ input }) => needs(options.control.rollback, 'roll back')(input.backup)),
    }),
    dashboard: router({
      /** A one-time sign-in link's path (`/signin#CODE`: the code never reaches a server's log) for the dashboard, full or read-only. */
      signInLink: adminProcedure.input(z.object({ role: z.enum(['admin', 'viewer']).default('admin') })).mutation(({ input }) => {
        const { code, expiresAt } = options.dashboardSessions.createLink(input.role);
        return { path: `/signin#${code}`, role: input.role, expiresAt };
      }),
      /** Who the page is: what it may show and do. */
      whoAmI: viewerProcedure.query(({ ctx }) => ({ role: ctx.admin ? ('admin' as const) : ('viewer' as const) })),
      /** The signed-in sessions: a handle each (not the cookie), its role, when it signed in and ends, its browser. */
      sessions: adminProcedure.query(() => options.dashboardSessions.list()),
      /** Ends one session by its handle, or all: their open pages close at once. */
      revoke: adminProcedure.input(z.union([z.object({ handle: z.string().min(1).max(64) }), z.object({ all: z.literal(true) })])).mutation(({ input }) => {
        if ('all' in input) return { revoked: options.dashboardSessions.revokeAll() };
        if (!options.dashboardSessions.revoke(input.handle))
          throw new PlexliftError(
            'BAD_ARGUMENT',
            `no dashboard session has the handle ${JSON.stringify(input.handle)} (plexlift dashboard sessions lists them); nothing was revoked`,
          );
        return { revoked: 1 };
      }),
    }),
  });
}

export type AppRouter = ReturnType<typeof createAppRouter>;
