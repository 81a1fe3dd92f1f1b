import type { AgentApi } from '@plexlift/shared/protocol';
import { createAgentRouter } from '@plexlift/shared/protocol';
import type { JobStore } from '../store/job-store.js';
import type { JobControl } from '../jobs/job-control.js';
import { createAdminRouter } from './admin-router.js';
import type { JobBus } from '../store/job-bus.js';
import { router, type ControllerContext } from './trpc.js';

/** Everything the controller serves over tRPC: `agent.*` for agents, `jobs.*` for the CLI and tools. */
export function createAppRouter(options: { gateway: AgentApi<ControllerContext>; jobs: JobStore; bus: JobBus; control: JobControl }) {
  return router({
    agent: createAgentRouter(options.gateway),
    jobs: createAdminRouter(options),
  });
}

export type AppRouter = ReturnType<typeof createAppRouter>;
