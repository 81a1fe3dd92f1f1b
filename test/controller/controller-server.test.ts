import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { parseJobSpec, type AgentCommand, type AgentEvent } from '@plexlift/shared/protocol';
import { HomeConnection } from '../../packages/agent/src/home/connection.js';
import { Journal } from '../../packages/agent/src/home/journal.js';
import { createControllerClient } from '../../packages/controller/src/client.js';
import { startController } from '../../packages/controller/src/controller.js';
import { createTempDir } from '../utils/temp-dir.js';

const spec = parseJobSpec({
  jobId: 'job-0001',
  mode: 'delta',
  plex: { version: '1.43.2.10687-563d026ea' },
  media: { mountPath: '/Media', remote: 's3:media' },
});

async function controllerWithJob() {
  const dir = createTempDir();
  const refused: string[] = [];
  const controller = await startController({
    stateDir: join(dir, 'state'),
    adminToken: 'admin-secret-0123456789',
    host: '127.0.0.1',
    agentJob: () => Promise.resolve({ spec, secrets: {}, transfers: { baseUrl: 'http://127.0.0.1:1', token: 't', exportId: 'job-0001-export' } }),
    onRefused: (where, reason) => refused.push(`${where}: ${reason}`),
  });
  onTestFinished(() => controller.close());
  controller.jobs.create({ id: 'job-0001', library: 'home', provider: 'local', spec, options: { keep: false, noInstall: false } });
  const bootstrap = controller.tokens.issue('job-0001', 'bootstrap', { ttlMs: 600_000 });
  return { dir, controller, bootstrap, refused };
}

function agent(dir: string, url: string, token: string, name = 'agent') {
  const journal = new Journal(join(dir, `${name}.db`), 'job-0001');
  const commands: AgentCommand[] = [];
  const connection = new HomeConnection({
    url,
    jobId: 'job-0001',
    agentVersion: '0.1.0',
    token: () => token,
    journal,
    onCommand: (c) => commands.push(c),
    retryDelayMs: () => 50,
  });
  onTestFinished(async () => {
    await connection.close();
    journal.close();
  });
  return { connection, journal, commands };
}

const log = (i: number): AgentEvent => ({ type: 'log', level: 'info', message: `event ${i}` });

describe('the controller server and a real agent connection', () => {
  it('trades the bootstrap token for a session token once, stores every report once across a cut, and resumes commands after the last one seen', async () => {
    const { dir, controller, bootstrap } = await controllerWithJob();
    const { connection, commands } = agent(dir, controller.server.wsUrl, bootstrap);
    await connection.start();
    expect(controller.tokens.check(bootstrap, ['bootstrap'])).toEqual({ ok: false, reason: 'used' });
    for (let i = 0; i < 5; i++) connection.report(log(i));
    await connection.drained();
    controller.jobs.pushCommand('job-0001', { type: 'pause', jobId: 'job-0001' });
    controller.bus.commandQueued('job-0001');
    await vi.waitFor(() => expect(commands).toHaveLength(1));

    // A cut: the agent comes back with its session token (the bootstrap one is spent).
    controller.server.dropConnections();
    for (let i = 5; i < 10; i++) connection.report(log(i));
    controller.jobs.pushCommand('job-0001', { type: 'run', jobId: 'job-0001' });
    controller.bus.commandQueued('job-0001');
    await connection.drained();
    await vi.waitFor(() => expect(commands.map((c) => c.type)).toEqual(['pause', 'run']));
    expect(controller.jobs.events('job-0001').map((e) => e.event)).toEqual(Array.from({ length: 10 }, (_, i) => log(i)));
  });

  it('an agent process that restarts comes back with the session token kept in its journal (its bootstrap token is spent)', async () => {
    const { dir, controller, bootstrap } = await controllerWithJob();
    const first = agent(dir, controller.server.wsUrl, bootstrap, 'vm');
    await first.connection.start();
    first.connection.report(log(1));
    await first.connection.drained();
    await first.connection.close();
    first.journal.close();
    expect(statSync(join(dir, 'vm.db')).mode & 0o777).toBe(0o600);
    // The same work folder, a new process: the bootstrap token from its user data no longer works.
    const again = agent(dir, controller.server.wsUrl, bootstrap, 'vm');
    await again.connection.start();
    again.connection.report(log(2));
    await again.connection.drained();
    expect(controller.jobs.events('job-0001').map((e) => e.event)).toEqual([log(1), log(2)]);
  });

  it('refuses a missing, wrong, expired or reused bootstrap token with 4401, and says why in its own log only', async () => {
    const { dir, controller, bootstrap, refused } = await controllerWithJob();
    const first = agent(dir, controller.server.wsUrl, bootstrap, 'first');
    await first.connection.start();
    const expired = controller.tokens.issue('job-0001', 'bootstrap', { ttlMs: -1 });
    for (const [name, token] of [
      ['missing', ''],
      ['wrong', 'plx_b_not-a-token'],
      ['expired', expired],
      ['reused', bootstrap],
    ] as const) {
      const { connection } = agent(dir, controller.server.wsUrl, token, name);
      await expect(connection.start(), name).rejects.toMatchObject({ code: 'AUTH_REFUSED' });
    }
    expect(refused).toEqual(['websocket: no token', 'websocket: unknown token', 'websocket: expired token', 'websocket: used token']);
    expect(refused.join(' ')).not.toContain(bootstrap);
  });

  it('serves the CLI with the admin token only, over HTTP and over the WebSocket', async () => {
    const { controller } = await controllerWithJob();
    const admin = createControllerClient({ url: controller.server.url, token: 'admin-secret-0123456789' });
    onTestFinished(() => admin.close());
    expect((await admin.jobs.list.query()).map((j) => j.id)).toEqual(['job-0001']);
    const intruder = createControllerClient({ url: controller.server.url, token: 'admin-secret-wrong' });
    onTestFinished(() => intruder.close());
    await expect(intruder.jobs.list.query()).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });

    // A job's events, live, over the WebSocket: the backlog first, then new ones.
    controller.jobs.appendEvent('job-0001', 'job-0001:1', log(1));
    const seen: string[] = [];
    const subscription = admin.jobs.events.subscribe(
      { jobId: 'job-0001' },
      { onData: ({ data }) => seen.push(data.event.type === 'log' ? data.event.message : data.event.type) },
    );
    onTestFinished(() => subscription.unsubscribe());
    await vi.waitFor(() => expect(seen).toEqual(['event 1']));
    const stored = controller.jobs.appendEvent('job-0001', 'job-0001:2', log(2))!;
    controller.bus.eventStored(stored);
    await vi.waitFor(() => expect(seen).toEqual(['event 1', 'event 2']));

    let closeCode: number | undefined;
    const { createWSClient } = await import('@trpc/client');
    const WebSocket = (await import('ws')).default;
    const ws = createWSClient({
      url: controller.server.wsUrl,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      connectionParams: { token: 'admin-secret-wrong' },
      onClose: (cause) => (closeCode ??= cause?.code),
    });
    onTestFinished(() => ws.close());
    await vi.waitFor(() => expect(closeCode).toBe(4401));
  });
});
