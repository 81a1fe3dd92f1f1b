import { join } from 'node:path';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import { onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { parseJobSpec, type AgentRootRouter } from '@plexlift/shared/protocol';
import { startController, type ControllerOptions } from '../../packages/controller/src/controller.js';
import { createTempDir } from '../utils/temp-dir.js';

export const ADMIN_TOKEN = 'admin-secret-0123456789';
export const JOB_ID = 'job-0001';

const spec = parseJobSpec({
  jobId: JOB_ID,
  mode: 'delta',
  plex: { version: '1.43.2.10687-563d026ea' },
  media: { mountPath: '/Media', remote: 's3:media' },
});

/** A real controller on loopback (port 0) with one queued job and its bootstrap token; closed after the test. */
export async function startPortController(options: Partial<ControllerOptions> = {}) {
  const dir = createTempDir();
  const refused: string[] = [];
  const controller = await startController({
    stateDir: join(dir, 'state'),
    adminToken: ADMIN_TOKEN,
    host: '127.0.0.1',
    agentJob: () => Promise.resolve({ spec, secrets: {}, transfers: { baseUrl: 'http://127.0.0.1:1', token: 't', exportId: `${JOB_ID}-export` } }),
    onRefused: (where, reason) => refused.push(`${where}: ${reason}`),
    ...options,
  });
  onTestFinished(() => controller.close());
  controller.jobs.create({ id: JOB_ID, library: 'home', provider: 'local', spec, options: { keep: false, noInstall: false } });
  const bootstrap = controller.tokens.issue(JOB_ID, 'bootstrap', { ttlMs: 600_000 });
  return { dir, controller, bootstrap, refused };
}

/** An agent's tRPC client over its own real WebSocket, as a hostile VM could drive it; records how the socket closed. */
export function agentClient(wsUrl: string, token: string) {
  const closes: number[] = [];
  const ws = createWSClient({
    url: wsUrl,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    connectionParams: { token },
    retryDelayMs: () => 60_000,
    onClose: (cause) => closes.push(cause?.code ?? 0),
  });
  const client = createTRPCClient<AgentRootRouter>({ links: [wsLink({ client: ws })] });
  onTestFinished(() => ws.close());
  return { client, closes };
}
