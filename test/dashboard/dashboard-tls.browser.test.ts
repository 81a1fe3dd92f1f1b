import { createServer, type IncomingMessage, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '@plexlift/shared';
import { parseJobSpec } from '@plexlift/shared/protocol';
import { createControllerClient } from '../../packages/controller/src/client.js';
import { startController, type Controller } from '../../packages/controller/src/controller.js';
import { dashboardBundleDir } from '../../packages/controller/src/server/dashboard-routes.js';
import { ensureCertificate } from '../../packages/controller/src/server/tls-certificate.js';
import { launchChromium } from '../utils/chromium.js';

const ADMIN = 'admin-secret-dashboard-tls-0123456789';
/** The dashboard's name on the LAN, and a sibling name of the same site (another service's page). */
const NAME = 'plexlift.home.test';
const OTHER = 'other.home.test';

/**
 * A reverse proxy in front of the daemon that names it by its loopback address (as `proxy_pass
 * https://127.0.0.1:7878` does) and says it forwarded; with a `prefix`, it serves the daemon under
 * that path and takes it off on the way (as `location /plexlift/ { proxy_pass …/; }` does).
 */
function startProxy(target: () => number, prefix = ''): Promise<Server> {
  const upstreamHeaders = (req: IncomingMessage) => ({ ...req.headers, host: `127.0.0.1:${target()}`, 'x-forwarded-for': '127.0.0.1' });
  const upstreamPath = (req: IncomingMessage) => (req.url ?? '/').slice(prefix.length) || '/';
  const proxy = createServer((req, res) => {
    if (!(req.url ?? '').startsWith(`${prefix}/`)) return res.writeHead(404).end();
    const upstream = httpsRequest(
      { host: '127.0.0.1', port: target(), path: upstreamPath(req), method: req.method, headers: upstreamHeaders(req), rejectUnauthorized: false },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  proxy.on('upgrade', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const upstream = tlsConnect({ host: '127.0.0.1', port: target(), rejectUnauthorized: false }, () => {
      const lines = Object.entries(upstreamHeaders(req)).flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((v) => `${name}: ${v}`));
      upstream.write(`${req.method} ${upstreamPath(req)} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
      upstream.write(head);
      client.pipe(upstream).pipe(client);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  return new Promise((resolve) => proxy.listen(0, '127.0.0.1', () => resolve(proxy)));
}

describe('the dashboard over HTTPS at a LAN name, in a real headless Chromium', () => {
  let controller: Controller;
  let browser: Browser;
  let proxy: Server;
  /** A proxy the daemon was told of (server.dashboard.origins), serving it under /plexlift/. */
  let prefixed: Server;
  let base: string;
  let fingerprint: string;
  const refused: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'plexlift-dashboard-tls-'));

  beforeAll(async () => {
    const config = parseConfig({ server: { stateDir: join(dir, 'state') } }, 'test');
    const certificate = await ensureCertificate(config);
    fingerprint = certificate.fingerprint;
    prefixed = await startProxy(() => controller.server.port, '/plexlift');
    controller = await startController({
      dashboardOrigins: [`http://127.0.0.1:${(prefixed.address() as AddressInfo).port}`],
      stateDir: config.server.stateDir,
      adminToken: ADMIN,
      host: '127.0.0.1',
      tls: { cert: certificate.cert, key: certificate.key },
      dashboardDir: dashboardBundleDir(),
      agentJob: () => Promise.reject(new Error('no agent in this test')),
      onRefused: (where, reason) => refused.push(`${where}: ${reason}`),
    });
    base = `https://${NAME}:${controller.server.port}`;
    proxy = await startProxy(() => controller.server.port);
    const spec = parseJobSpec({
      jobId: 'job-over-tls',
      mode: 'delta',
      plex: { version: '1.43.2.10687-563d026ea' },
      media: { mountPath: '/Media', remote: 's3:media' },
    });
    controller.jobs.create({ id: 'job-over-tls', library: 'home', provider: 'local', spec, options: { keep: false, noInstall: false } });
    browser = await launchChromium([
      // Both names are this machine; the daemon's self-signed certificate is trusted by its key
      // alone (as a person accepts it once), so every other certificate check still holds.
      `--host-resolver-rules=MAP ${NAME} 127.0.0.1, MAP ${OTHER} 127.0.0.1`,
      `--ignore-certificate-errors-spki-list=${certificate.publicKeyPin}`,
    ]);
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => proxy?.close(resolve));
    await new Promise((resolve) => prefixed?.close(resolve));
    await controller?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function signInLink(at: string): Promise<string> {
    const admin = createControllerClient({ url: controller.server.url, token: ADMIN, fingerprint });
    try {
      return `${at}${(await admin.dashboard.signInLink.mutate({ role: 'admin' })).path}`;
    } finally {
      await admin.close();
    }
  }

  /** Signs in through a one-time link at `at` (the LAN name by default) and waits for the jobs list; `onPage` sees the page first. */
  async function signedIn(options: { bypassCSP?: boolean; at?: string; onPage?: (page: Page) => void } = {}): Promise<{ context: BrowserContext; page: Page }> {
    const at = options.at ?? base;
    const context = await browser.newContext(options.bypassCSP ? { bypassCSP: true } : {});
    const page = await context.newPage();
    options.onPage?.(page);
    await page.goto(await signInLink(at));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${at}/`);
    await expect
      .poll(() =>
        page
          .getByRole('navigation', { name: 'Jobs' })
          .getByRole('button', { name: /job-over-tls/ })
          .count(),
      )
      .toBe(1);
    return { context, page };
  }

  it('signs in through a one-time link at the LAN name and keeps the session in a __Host- cookie of that name only', async () => {
    const { context } = await signedIn();
    const cookies = await context.cookies();
    expect(cookies).toEqual([
      expect.objectContaining({ name: '__Host-plexlift_session', domain: NAME, path: '/', secure: true, httpOnly: true, sameSite: 'Strict' }),
    ]);
    await context.close();
  });

  it("a page at a sibling name cannot open the daemon's socket with the cookie: refused with 4403", async () => {
    // Another service's page on the same site (the browser sends the Strict cookie to a sibling
    // name of the same site): only the Origin check stands between it and the session. Its page is
    // played by one the daemon serves at that name, its policy lifted (the daemon's forbids the call).
    const { context } = await signedIn({ bypassCSP: true });
    const other = `https://${OTHER}:${controller.server.port}`;
    const page = await context.newPage();
    await page.goto(`${other}/`);
    const code = await page.evaluate(
      (url) =>
        new Promise<number>((resolve) => {
          const socket = new WebSocket(url);
          socket.onclose = (event) => resolve(event.code);
        }),
      `wss://${NAME}:${controller.server.port}`,
    );
    expect(code).toBe(4403);
    expect(refused).toContain(`websocket: a dashboard socket from another origin (${other})`);
    await context.close();
  });

  it("a page behind a proxy whose address the daemon was not told says so, rather than 'signed out'", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}/`);
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('This page was opened at an address the daemon does not know as its own');
    expect(await page.getByRole('heading', { name: 'Sign in' }).count()).toBe(0);
    await context.close();
  });

  it("works under a reverse proxy's path: sign-in, the page's files, its socket and sign-out all go through /plexlift/", async () => {
    const at = `http://127.0.0.1:${(prefixed.address() as AddressInfo).port}/plexlift`;
    const requested: string[] = [];
    const { context, page } = await signedIn({ at, onPage: (page) => page.on('request', (request) => requested.push(new URL(request.url()).pathname)) });
    // Nothing went around the path (the proxy answers 404 there).
    expect(requested.filter((path) => !path.startsWith('/plexlift/'))).toEqual([]);
    expect(requested).toEqual(expect.arrayContaining(['/plexlift/signin', '/plexlift/assets/app.js', '/plexlift/']));
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Sign in' }).count()).toBe(1);
    expect(await context.cookies()).toEqual([]);
    await context.close();
  });
});
