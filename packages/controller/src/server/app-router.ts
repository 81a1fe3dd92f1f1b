import type { AgentApi } from '@plexlift/shared/protocol';
import { createAgentRouter, PROTOCOL_VERSION } from '@plexlift/shared/protocol';
import type { JobStore } from '../store/job-store.js';
import type { JobControl } from '../jobs/job-control.js';
import { createAdminRouter } from './admin-router.js';
import type { JobBus } from '../store/job-bus.js';
import { VERSION } from '../version.js';
import { adminProcedure, router, type ControllerContext } from './trpc.js';

/** Everything the controller serves over tRPC: `agent.*` for agents, `jobs.*` and `daemon.*` for the CLI and tools. */
export function createAppRouter(options: { gateway: AgentApi<ControllerContext>; jobs: JobStore; bus: JobBus; control: JobControl }) {
  return router({
    agent: createAgentRouter(options.gateway),
    jobs: createAdminRouter(options),
    daemon: router({
      /** The daemon's release (its agents' too: the daemon serves their bundle) and the agent protocol it speaks. */
      version: adminProcedure.query(() => ({ version: VERSION, agentVersion: VERSION, protocol: PROTOCOL_VERSION, node: process.version })),
    }),
  });
}

export type AppRouter = ReturnType<typeof createAppRouter>;
