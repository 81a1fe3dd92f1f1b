import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import WebSocket from 'ws';
import { AUTH_TIMEOUT_CLOSE_CODE } from '@plexlift/shared/protocol';
import { createTempDir } from '../utils/temp-dir.js';
import { ADMIN_TOKEN, startPortController } from './port-controller.js';

/** A socket that says it will send its token in a first message (as tRPC clients do), then does what the test says. */
function rawSocket(wsUrl: string) {
  const ws = new WebSocket(`${wsUrl}/?connectionParams=1`);
  const closed = once(ws, 'close').then(([code]) => code as number);
  ws.on('error', () => undefined);
  onTestFinished(() => ws.terminate());
  return { ws, closed, opened: once(ws, 'open') };
}

/** The resident memory of a process, in bytes. */
function rssOf(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

/** A TCP connection that is open for real: it gets an answer to an HTTP request. */
async function healthy(port: number): Promise<{ socket: Socket; ok: boolean }> {
  const socket = connect(port, '127.0.0.1');
  onTestFinished(() => void socket.destroy());
  socket.on('error', () => undefined);
  socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  const answer = await Promise.race([once(socket, 'data').then(([data]) => (data as Buffer).toString()), once(socket, 'close').then(() => '')]);
  return { socket, ok: answer.startsWith('HTTP/1.1 200') };
}

describe('the port before any token (issue 16 item 2)', () => {
  it('closes a socket at a 5 MiB frame without reading it (1009), and the daemon does not grow by what was sent', async () => {
    const dir = createTempDir();
    const server = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', new URL('./port-server-process.ts', import.meta.url).pathname, dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    onTestFinished(() => void server.kill('SIGKILL'));
    const [line] = (await once(createInterface({ input: server.stdout }), 'line')) as [string];
    const { wsUrl } = JSON.parse(line) as { wsUrl: string };
    const frame = `{"data":{"token":"${'x'.repeat(5 * 1024 * 1024)}"}}`;
    const sendFrames = (count: number) =>
      Promise.all(
        Array.from({ length: count }, async () => {
          const socket = rawSocket(wsUrl);
          await socket.opened;
          socket.ws.send(frame);
          return socket.closed;
        }),
      );
    // Once to warm the daemon up (the code a first socket loads), then measured.
    expect(await sendFrames(2)).toEqual([1009, 1009]);
    const before = rssOf(server.pid!);
    for (let round = 0; round < 4; round++) expect(await sendFrames(10)).toEqual(Array.from({ length: 10 }, () => 1009));
    // 200 MiB were sent; the daemon holds about what it held before (allocator slack aside).
    expect(rssOf(server.pid!) - before).toBeLessThan(48 * 1024 * 1024);
  });

  it('closes a socket that answers pings but shows no token within the deadline (4408), and says so in its log', async () => {
    const { controller, refused } = await startPortController({ authTimeoutMs: 400, keepAlive: { pingMs: 50, pongWaitMs: 1_000 } });
    const { ws, closed, opened } = rawSocket(controller.server.wsUrl);
    await opened;
    ws.on('message', (data) => (data as Buffer).toString() === 'PING' && ws.send('PONG'));
    const started = Date.now();
    await expect(closed).resolves.toBe(AUTH_TIMEOUT_CLOSE_CODE);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(refused).toEqual(['websocket: no token within 400 ms']);
  });

  it('holds at most so many connections per address and in total, and takes new ones once some close', async () => {
    const { controller, refused } = await startPortController({ connectionLimits: { perAddress: 3, total: 100 } });
    const open = await Promise.all([1, 2, 3].map(() => healthy(controller.server.port)));
    expect(open.map((c) => c.ok)).toEqual([true, true, true]);
    expect((await healthy(controller.server.port)).ok).toBe(false);
    expect(refused).toEqual(['connection: 127.0.0.1 has 3 connections open already']);
    open[0]!.socket.destroy();
    await vi.waitFor(async () => expect((await healthy(controller.server.port)).ok).toBe(true));

    const small = await startPortController({ connectionLimits: { perAddress: 100, total: 2 } });
    const two = await Promise.all([1, 2].map(() => healthy(small.controller.server.port)));
    expect(two.map((c) => c.ok)).toEqual([true, true]);
    expect((await healthy(small.controller.server.port)).ok).toBe(false);
    expect(small.refused.join()).toContain('2 connections are open already');
  });

  it('refuses a message nested deeper than any call before parsing it, without stalling the daemon', async () => {
    const { controller } = await startPortController();
    const { ws, opened } = rawSocket(controller.server.wsUrl);
    await opened;
    ws.send(JSON.stringify({ method: 'connectionParams', data: { token: ADMIN_TOKEN } }));
    const answers: string[] = [];
    ws.on('message', (data) => answers.push((data as Buffer).toString()));
    const depth = 500_000;
    let lagMs = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      lagMs = Math.max(lagMs, performance.now() - last - 5);
      last = performance.now();
    }, 5);
    onTestFinished(() => clearInterval(ticker));
    ws.send(`{"id":1,"method":"query","params":{"path":"jobs.list","input":${'['.repeat(depth)}${']'.repeat(depth)}}}`);
    await vi.waitFor(() => expect(answers.join()).toMatch(/nest 64 levels deep/));
    // JSON.parse alone of such a message takes ~0.4 s.
    expect(lagMs).toBeLessThan(150);
  });

  it('refuses a batch of more than 50 calls and a tRPC HTTP body over 1 MiB', async () => {
    const { controller } = await startPortController();
    const { ws, opened } = rawSocket(controller.server.wsUrl);
    await opened;
    ws.send(JSON.stringify({ method: 'connectionParams', data: { token: ADMIN_TOKEN } }));
    const answers: { id: number; error?: { message: string } }[] = [];
    ws.on('message', (data) => (data as Buffer).toString() !== 'PING' && answers.push(...[JSON.parse((data as Buffer).toString())].flat()));
    ws.send(JSON.stringify(Array.from({ length: 51 }, (_, id) => ({ id, method: 'query', params: { path: 'jobs.list', input: {} } }))));
    await vi.waitFor(() => expect(answers).toHaveLength(51));
    expect(new Set(answers.map((a) => a.error?.message))).toEqual(new Set(['Batch call exceeds maximum size']));

    const response = await fetch(`${controller.server.url}/trpc/jobs.run`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ library: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(response.status).toBe(413);
  });
});
