import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { parseConfig } from '@plexlift/shared';
import { createControllerClient } from '../../packages/controller/src/client.js';
import { startController, type Controller } from '../../packages/controller/src/controller.js';
import { limitRefusalLog } from '../../packages/controller/src/server/refusal-log.js';

const ADMIN = 'admin-secret-dashboard-origins-0123456789';
const PUBLIC_URL = 'https://plexlift.home.example:8443';

/** A plain-HTTP request to the daemon with the headers a browser (or a forger) would send. */
function send(url: string, path: string, headers: Record<string, string>, body?: string) {
  return new Promise<{ status: number; body: string; cookie: string | undefined }>((resolve, reject) => {
    const { port } = new URL(url);
    const request = httpRequest(
      { host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } },
      (answer) => {
        let text = '';
        answer.on('data', (chunk: Buffer) => (text += chunk.toString()));
        answer.on('end', () => resolve({ status: answer.statusCode ?? 0, body: text, cookie: answer.headers['set-cookie']?.[0] }));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** Opens the daemon's WebSocket with these headers: `open`, or the code it was closed with. */
function socketOutcome(wsUrl: string, headers: Record<string, string>): Promise<'open' | number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(wsUrl, { headers });
    // The daemon refuses in its tRPC context, after the upgrade: an open socket is told within moments.
    let timer: NodeJS.Timeout | undefined;
    socket.on('open', () => {
      timer = setTimeout(() => {
        socket.close();
        resolve('open');
      }, 300);
    });
    socket.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    socket.on('error', () => undefined);
  });
}

describe("the dashboard's origin check: its own addresses and the configured ones, no forwarding header trusted", () => {
  let controller: Controller;
  let cookie: string;
  let host: string;
  const refused: string[] = [];
  /** Every line logged since the start (one minute's window holds them all). */
  const logged: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'plexlift-dashboard-origins-'));

  beforeAll(async () => {
    controller = await startController({
      stateDir: join(dir, 'state'),
      adminToken: ADMIN,
      host: '127.0.0.1',
      dashboardOrigins: [PUBLIC_URL, undefined, 'https://proxy.home.example/'],
      agentJob: () => Promise.reject(new Error('no agent in this test')),
      onRefused: (where, reason) => logged.push(`${where}: ${reason}`) && refused.push(`${where}: ${reason}`),
    });
    host = new URL(controller.server.url).host;
    const admin = createControllerClient({ url: controller.server.url, token: ADMIN });
    const { path } = await admin.dashboard.signInLink.mutate({ role: 'admin' });
    await admin.close();
    const signedIn = await send(controller.server.url, '/signin', { host, origin: controller.server.url }, `code=${path.split('#')[1]}`);
    expect(signedIn.status).toBe(200);
    expect(signedIn.cookie).toMatch(/^__Host-plexlift_session=[\w-]{43}; Path=\/; Max-Age=\d+; HttpOnly; Secure; SameSite=Strict$/);
    cookie = signedIn.cookie!.split(';')[0]!;
  });
  afterAll(async () => {
    await controller?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets in a page at loopback, at the configured public address (behind a proxy) and at the Host of a direct connection', async () => {
    const port = new URL(controller.server.url).port;
    for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`])
      expect(await socketOutcome(controller.server.wsUrl, { cookie, origin, host }), origin).toBe('open');
    // A proxy that names the daemon by its own address: the configured origins count, whatever Host says.
    for (const origin of [PUBLIC_URL, 'https://proxy.home.example'])
      expect(await socketOutcome(controller.server.wsUrl, { cookie, origin, host, 'x-forwarded-for': '192.0.2.7' }), origin).toBe('open');
    // Straight to the port by a LAN name: the browser set both Origin and Host.
    expect(await socketOutcome(controller.server.wsUrl, { cookie, origin: `http://zima.lan:${port}`, host: `zima.lan:${port}` })).toBe('open');
  });

  it('refuses with 4403 a page elsewhere, whatever X-Forwarded-Host claims, and a Host through a proxy', async () => {
    const port = new URL(controller.server.url).port;
    refused.length = 0;
    // Before: X-Forwarded-Host of any client was trusted, so a forged one let another site's page in.
    expect(await socketOutcome(controller.server.wsUrl, { cookie, origin: 'https://attacker.example', host, 'x-forwarded-host': 'attacker.example' })).toBe(
      4403,
    );
    expect(await socketOutcome(controller.server.wsUrl, { cookie, origin: 'https://attacker.example', host: 'attacker.example' })).toBe(4403); // another scheme
    // Behind a proxy the Host may be the proxy's choice: only the configured addresses count.
    expect(
      await socketOutcome(controller.server.wsUrl, { cookie, origin: `http://zima.lan:${port}`, host: `zima.lan:${port}`, 'x-forwarded-for': '192.0.2.7' }),
    ).toBe(4403);
    expect(await socketOutcome(controller.server.wsUrl, { cookie, origin: `${PUBLIC_URL}/path`, host })).toBe(4403);
    // Without a cookie too: the page says "another address", not "signed out".
    expect(await socketOutcome(controller.server.wsUrl, { origin: 'https://attacker.example', host })).toBe(4403);
    // A client with neither a token nor a cookie nor an Origin is just unauthorized.
    expect(await socketOutcome(controller.server.wsUrl, { host })).toBe(4401);
    expect(refused).toContain('websocket: a dashboard socket from another origin (https://attacker.example)');

    // Sign-in and sign-out from another site's page are refused the same way, and said why.
    const signIn = await send(controller.server.url, '/signin', { host, origin: 'https://attacker.example', 'x-forwarded-host': 'attacker.example' }, 'code=x');
    expect(signIn.status).toBe(403);
    expect(signIn.body).toContain('This page was opened at an address the daemon does not know as its own');
    expect(
      (await send(controller.server.url, '/signout', { host, cookie, origin: 'https://attacker.example', 'x-forwarded-host': 'attacker.example' })).status,
    ).toBe(403);
    expect(await socketOutcome(controller.server.wsUrl, { cookie, origin: controller.server.url, host })).toBe('open');
  });

  it('logs a flood of refusals as at most 20 lines a minute per kind', async () => {
    refused.length = 0;
    for (let i = 0; i < 30; i++)
      expect((await send(controller.server.url, '/signin', { host, origin: controller.server.url }, `code=wrong-${i}`)).status).toBe(401);
    expect(logged.filter((line) => line.startsWith('dashboard: '))).toHaveLength(20);
    // Another kind has its own count.
    expect(await socketOutcome(controller.server.wsUrl, { host })).toBe(4401);
    expect(refused.at(-1)).toBe('websocket: no token');
  });
});

describe('server.dashboard.origins', () => {
  it('takes a list of addresses (none by default) and refuses what is not one', () => {
    expect(parseConfig({}, 'test').server.dashboard.origins).toEqual([]);
    expect(parseConfig({ server: { dashboard: { origins: ['https://plexlift.home.example'] } } }, 'test').server.dashboard.origins).toEqual([
      'https://plexlift.home.example',
    ]);
    expect(() => parseConfig({ server: { dashboard: { origins: ['plexlift.home.example'] } } }, 'test')).toThrow('server.dashboard.origins[0]: must be a URL');
  });
});

describe('limitRefusalLog', () => {
  it('logs the first lines of a window per kind, then one line that counts the rest at its end', () => {
    vi.useFakeTimers();
    try {
      const lines: string[] = [];
      const log = limitRefusalLog((where, reason) => lines.push(`${where}: ${reason}`), { lines: 2, windowMs: 60_000 });
      for (let i = 1; i <= 5; i++) log('dashboard', `refusal ${i}`);
      log('websocket', 'no token');
      expect(lines).toEqual(['dashboard: refusal 1', 'dashboard: refusal 2', 'websocket: no token']);
      vi.advanceTimersByTime(60_000);
      expect(lines.slice(3)).toEqual(['dashboard: … and 3 more refusals in the last minute']);
      // A new window logs again.
      log('dashboard', 'refusal 6');
      expect(lines.at(-1)).toBe('dashboard: refusal 6');
      vi.advanceTimersByTime(60_000);
      expect(lines).toHaveLength(5);
    } finally {
      vi.useRealTimers();
    }
  });
});
