import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { parseJobSpec, type AgentEvent } from '@plexlift/shared/protocol';
import { createControllerClient } from '../../packages/controller/src/client.js';
import { startController, type Controller } from '../../packages/controller/src/controller.js';
import { dashboardBundleDir } from '../../packages/controller/src/server/dashboard-routes.js';
import { runCli } from '../utils/run-cli.js';
import type { JobRecord } from '../../packages/controller/src/store/job-store.js';

const ADMIN = 'admin-secret-dashboard-0123456789';
/** Screenshots of each run, for a person to look at (git-ignored). */
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/dashboard/', import.meta.url));
/** Debian's Chromium (setup.sh installs it); nothing is downloaded at run time. */
const CHROMIUM = process.env.PLEXLIFT_CHROMIUM ?? '/usr/bin/chromium';

function emit(controller: Controller, job: JobRecord, key: string, event: AgentEvent): void {
  const stored = controller.jobs.appendEvent(job.id, key, event);
  if (stored) controller.bus.eventStored(stored);
}

describe('the dashboard, in a real headless Chromium', () => {
  let controller: Controller;
  let browser: Browser;
  let job: JobRecord;
  const aborted: string[] = [];
  const refused: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'plexlift-dashboard-'));

  beforeAll(async () => {
    controller = await startController({
      stateDir: join(dir, 'state'),
      adminToken: ADMIN,
      host: '127.0.0.1',
      dashboardDir: dashboardBundleDir(),
      agentJob: () => Promise.reject(new Error('no agent in this test')),
      control: {
        abort: (jobId) => {
          aborted.push(jobId);
          return Promise.resolve();
        },
      },
      onRefused: (where, reason) => refused.push(`${where}: ${reason}`),
    });
    const spec = parseJobSpec({
      jobId: 'job-on-screen',
      mode: 'delta',
      plex: { version: '1.43.2.10687-563d026ea' },
      media: { mountPath: '/Media', remote: 's3:media' },
    });
    job = controller.jobs.create({ id: 'job-on-screen', library: 'home', provider: 'local', spec, options: { keep: false, noInstall: false } });
    job = controller.jobs.transition(job, 'queued', 'provisioning')!;
    job = controller.jobs.transition(job, 'provisioning', 'running')!;
    emit(controller, job, 'a:1', { type: 'phase:start', phase: 'provision' });
    emit(controller, job, 'a:2', { type: 'phase:complete', phase: 'provision', summary: {} });
    emit(controller, job, 'a:3', { type: 'phase:start', phase: 'sonic' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // As the machine's probe runs it: no sandbox as root, no calls to the vendor's services.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await controller?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A one-time sign-in link, as `plexlift dashboard` gets it. */
  async function signInLink(role: 'admin' | 'viewer' = 'admin'): Promise<string> {
    const admin = createControllerClient({ url: controller.server.url, token: ADMIN });
    try {
      return `${controller.server.url}${(await admin.dashboard.signInLink.mutate({ role })).path}`;
    } finally {
      await admin.close();
    }
  }

  async function newPage(size: { width: number; height: number } = { width: 1280, height: 800 }): Promise<Page> {
    const context = await browser.newContext({ viewport: size });
    return context.newPage();
  }

  it('signs in through a one-time link, follows the running job live, and aborts it after asking', async () => {
    const link = await signInLink();
    const page = await newPage();
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    await page.goto(link);
    // The code leaves the address bar at once; the session is a cookie no script can read.
    expect(new URL(page.url()).pathname).toBe('/');
    expect(page.url()).not.toContain('code=');
    await expect.poll(() => page.getByText('signed in', { exact: true }).count()).toBe(1);
    const [cookie] = await page.context().cookies();
    expect(cookie).toMatchObject({ name: 'plexlift_session', httpOnly: true, secure: true, sameSite: 'Strict' });
    expect(await page.evaluate('document.cookie')).toBe('');

    // The newest job is shown: the phase under way and the timeline.
    await expect.poll(() => page.getByRole('heading', { name: /Job job-on-screen/ }).count()).toBe(1);
    await expect.poll(() => page.getByRole('region', { name: 'Phase under way' }).getByRole('heading', { name: 'sonic' }).count()).toBe(1);
    const phases = page.getByRole('region', { name: 'Phases' });
    expect(await phases.getByText('provision').count()).toBe(1);

    // Progress moves as the agent reports it: the daemon's percent, rate and ETA.
    emit(controller, job, 'a:4', {
      type: 'phase:progress',
      phase: 'sonic',
      percent: 42,
      rate: { value: 1234.4, unit: 'tracks/h' },
      etaMs: 150_000,
      message: 'Music: 420 of 1,000 tracks',
    });
    const figures = page.getByTestId('progress-figures');
    await expect.poll(() => figures.textContent()).toBe('42% · 1,234 tracks/h · ETA 2m30s · Music: 420 of 1,000 tracks');
    expect(await page.getByRole('progressbar', { name: 'sonic progress' }).getAttribute('value')).toBe('42');
    emit(controller, job, 'a:5', { type: 'phase:progress', phase: 'sonic', percent: 57, etaMs: 90_000 });
    await expect.poll(() => figures.textContent()).toBe('57% · ETA 1m30s');
    await page.screenshot({ path: join(ARTIFACTS, 'desktop-running.png'), fullPage: true });

    // Abort asks first and says what it does; "keep it running" changes nothing.
    await page.getByRole('button', { name: 'Abort job…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Abort job job-on-screen?' });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await dialog.textContent()).toContain('nothing it did is installed');
    await dialog.getByRole('button', { name: 'Keep it running' }).click();
    expect(aborted).toEqual([]);
    await page.getByRole('button', { name: 'Abort job…' }).click();
    await dialog.getByRole('button', { name: 'Abort the job' }).click();
    await vi.waitFor(() => expect(aborted).toEqual(['job-on-screen']));
    await expect.poll(() => page.getByRole('status').textContent()).toMatch(/^Aborted/);

    // Nothing came from anywhere but the daemon, and no token or code sits in a URL or the storage.
    expect(requested.every((url) => url.startsWith(controller.server.url))).toBe(true);
    expect(requested.filter((url) => url.includes('code=')).length).toBeLessThanOrEqual(1);
    expect(requested.join('\n')).not.toContain(ADMIN);
    expect(await page.evaluate('JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })')).toBe('{}{}');

    // Sign out ends the session: the page asks to sign in again.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Sign in' }).count()).toBe(1);
    await page.context().close();
  });

  it('plexlift dashboard prints the link (the one this CLI reaches the daemon at, or --url), full or --read-only', async () => {
    const env = { PLEXLIFT_URL: controller.server.url, PLEXLIFT_TOKEN: ADMIN };
    const printed = await runCli(['dashboard'], { env });
    expect(printed.status, printed.stderr).toBe(0);
    expect(printed.stderr).toContain('open this link within 10 minutes (it works once; a full session)');
    const link = printed.stdout.trim();
    expect(link).toMatch(new RegExp(`^${controller.server.url}/signin\\?code=[\\w-]{43}$`));
    expect(link).not.toContain(ADMIN);
    const page = await newPage();
    await page.goto(link);
    await expect.poll(() => page.getByText('signed in', { exact: true }).count()).toBe(1);
    await page.context().close();

    const viewer = JSON.parse((await runCli(['dashboard', '--read-only', '--json', '--url', 'https://plexlift.home.example/'], { env })).stdout) as {
      url: string;
      role: string;
    };
    expect(viewer).toMatchObject({ role: 'viewer', url: expect.stringMatching(/^https:\/\/plexlift\.home\.example\/signin\?code=/) });
    expect(await runCli(['dashboard', '--url', 'not an address'], { env })).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('--url: "not an address" is not an address'),
    });
    // A viewer cannot hand out links: the admin token only.
    expect((await runCli(['dashboard'], { env: { ...env, PLEXLIFT_TOKEN: 'wrong-token' } })).status).toBe(7);
  });

  it('a used link is refused, and so is an unknown one; the page without a session asks to sign in', async () => {
    const link = await signInLink();
    const first = await newPage();
    await first.goto(link);
    await expect.poll(() => first.getByText('signed in', { exact: true }).count()).toBe(1);
    const second = await newPage();
    const again = await second.goto(link);
    expect(again?.status()).toBe(401);
    expect(await second.textContent('body')).toContain('This sign-in link was used already or has expired');
    expect((await second.goto(`${controller.server.url}/signin?code=made-up`))?.status()).toBe(401);
    await second.goto(controller.server.url);
    await expect.poll(() => second.getByRole('heading', { name: 'Sign in' }).count()).toBe(1);
    expect(refused.filter((line) => line.startsWith('dashboard:'))).toHaveLength(2);
    await first.context().close();
    await second.context().close();
  });

  it('a read-only session sees the job but has no actions, and the daemon refuses them to it', async () => {
    const page = await newPage({ width: 390, height: 844 });
    await page.goto(await signInLink('viewer'));
    await expect.poll(() => page.getByText('signed in, read-only').count()).toBe(1);
    await expect.poll(() => page.getByRole('heading', { name: /Job job-on-screen/ }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Abort job…' }).count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'phone-read-only.png'), fullPage: true });

    // Its cookie on a socket of its own: reads answer, the abort is refused.
    const [cookie] = await page.context().cookies();
    const origin = controller.server.url;
    const calls = await tRpcOverSocket(`${cookie!.name}=${cookie!.value}`, origin, [
      { method: 'query', path: 'jobs.list', input: {} },
      { method: 'mutation', path: 'jobs.abort', input: { jobId: 'job-on-screen' } },
    ]);
    expect(calls[0]).toMatchObject({ result: { data: [{ id: 'job-on-screen' }] } });
    expect(calls[1]).toMatchObject({ error: { data: { code: 'UNAUTHORIZED' } } });
    expect(aborted).toEqual(['job-on-screen']); // only the admin's, from the first test
    await page.context().close();
  });

  it("another site's page cannot use the cookie: a socket from another origin is closed as unauthorized", async () => {
    const page = await newPage();
    await page.goto(await signInLink());
    const [cookie] = await page.context().cookies();
    const closed = await new Promise<number>((resolve) => {
      const socket = new WebSocket(controller.server.wsUrl, { headers: { cookie: `${cookie!.name}=${cookie!.value}`, origin: 'https://attacker.example' } });
      socket.on('close', (code) => resolve(code));
      socket.on('error', () => undefined);
    });
    expect(closed).toBe(4401);
    expect(refused.some((line) => line.includes('a dashboard session from another origin (https://attacker.example)'))).toBe(true);
    await page.context().close();
  });

  it('passes an axe-core accessibility check with no serious or critical violations, at phone and desktop sizes', async () => {
    const axeSource = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
    for (const size of [
      { width: 390, height: 844 },
      { width: 1280, height: 800 },
    ]) {
      // axe is injected as a script of its own: the page's policy lets only its own scripts run.
      const context = await browser.newContext({ viewport: size, bypassCSP: true });
      const page = await context.newPage();
      await page.goto(await signInLink());
      await expect.poll(() => page.getByRole('heading', { name: /Job job-on-screen/ }).count()).toBe(1);
      await page.addScriptTag({ path: axeSource });
      const violations = await page.evaluate<{ id: string; impact: string; help: string }[]>(
        'axe.run().then((result) => result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help })))',
      );
      expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
      await page.screenshot({ path: join(ARTIFACTS, `signed-in-${size.width}.png`), fullPage: true });
      await context.close();
    }
  });
});

/** tRPC calls over the daemon's WebSocket as a browser would make them (its cookie and origin), one answer each. */
function tRpcOverSocket(cookie: string, origin: string, calls: { method: 'query' | 'mutation'; path: string; input: unknown }[]): Promise<unknown[]> {
  const wsUrl = origin.replace(/^http/, 'ws');
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl, { headers: { cookie, origin } });
    const answers = new Map<number, unknown>();
    socket.on('open', () =>
      calls.forEach((call, id) => socket.send(JSON.stringify({ id, method: call.method, params: { path: call.path, input: call.input } }))),
    );
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { id?: number };
      if (typeof message.id !== 'number') return;
      answers.set(message.id, message);
      if (answers.size === calls.length) {
        socket.close();
        resolve(calls.map((_, id) => answers.get(id)));
      }
    });
    socket.on('error', reject);
    socket.on('close', (code) => answers.size < calls.length && reject(new Error(`closed ${code} before every answer`)));
  });
}
