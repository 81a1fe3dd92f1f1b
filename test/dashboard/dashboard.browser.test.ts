import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { diffLibraryStats } from '@plexlift/shared/plex-db';
import { parseJobSpec, type AgentEvent } from '@plexlift/shared/protocol';
import { createControllerClient } from '../../packages/controller/src/client.js';
import { startController, type Controller } from '../../packages/controller/src/controller.js';
import { dashboardBundleDir } from '../../packages/controller/src/server/dashboard-routes.js';
import { launchChromium, seriousAxeViolations } from '../utils/chromium.js';
import { runCli } from '../utils/run-cli.js';
import type { JobRecord } from '../../packages/controller/src/store/job-store.js';

const ADMIN = 'admin-secret-dashboard-0123456789';
/** Screenshots of each run, for a person to look at (git-ignored). */
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/dashboard/', import.meta.url));

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
    browser = await launchChromium();
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

  /** Opens the link and signs in as a person does: the page asks first, then goes to the dashboard. */
  async function signInWith(page: Page, link: string): Promise<void> {
    await page.goto(link);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${controller.server.url}/`);
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
    // The page keeps to its own policy: no refused script, style or connection.
    const consoleErrors: string[] = [];
    page.on('console', (message) => message.type() === 'error' && consoleErrors.push(message.text()));
    await signInWith(page, link);
    // The code leaves the address bar at once; the session is a cookie no script can read.
    expect(page.url()).toBe(`${controller.server.url}/`);
    await expect.poll(() => page.getByText('signed in', { exact: true }).count()).toBe(1);
    const [cookie] = await page.context().cookies();
    expect(cookie).toMatchObject({ name: '__Host-plexlift_session', path: '/', httpOnly: true, secure: true, sameSite: 'Strict' });
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
    // The machine's CPU as a chart: each agent reading is a point; the same in words for a screen reader.
    for (const [i, percent] of [20, 65, 90].entries()) emit(controller, job, `a:cpu-${i}`, { type: 'cpu:sample', percent });
    const chart = page.getByRole('img', { name: 'CPU over time' });
    await expect.poll(() => chart.getAttribute('data-points')).toBe('3');
    expect(await page.getByTestId('cpu-summary').textContent()).toBe('Now 90 %, 58 % on average over 3 readings.');
    expect(await chart.locator('canvas').count()).toBe(1);
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
    // The code is in the link's fragment, which a browser never sends: no request carries it.
    const code = new URL(link).hash.slice(1);
    expect(requested.join('\n')).not.toContain(code);
    expect(requested.join('\n')).not.toContain(ADMIN);
    expect(await page.evaluate('JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })')).toBe('{}{}');

    expect(consoleErrors).toEqual([]);

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
    expect(link).toMatch(new RegExp(`^${controller.server.url}/signin#[\\w-]{43}$`));
    expect(link).not.toContain(ADMIN);
    const page = await newPage();
    await signInWith(page, link);
    await expect.poll(() => page.getByText('signed in', { exact: true }).count()).toBe(1);
    await page.context().close();

    const viewer = JSON.parse((await runCli(['dashboard', '--read-only', '--json', '--url', 'https://plexlift.home.example/'], { env })).stdout) as {
      url: string;
      role: string;
    };
    expect(viewer).toMatchObject({ role: 'viewer', url: expect.stringMatching(/^https:\/\/plexlift\.home\.example\/signin#/) });
    // On loopback, the config's public address is the one a phone can open.
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ server: { publicUrl: 'https://zima.home.example:7878' } }));
    expect((await runCli(['dashboard', '--config', config], { env })).stdout).toMatch(/^https:\/\/zima\.home\.example:7878\/signin#[\w-]{43}\n$/);
    expect(await runCli(['dashboard', '--url', 'not an address'], { env })).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('--url: "not an address" is not an address'),
    });
    // A viewer cannot hand out links: the admin token only.
    expect((await runCli(['dashboard'], { env: { ...env, PLEXLIFT_TOKEN: 'wrong-token' } })).status).toBe(7);
  });

  it('a link preview spends nothing; a used link is refused, and so are an unknown and an expired one; sign-out closes the sockets of the session', async () => {
    const link = await signInLink();
    // A chat's preview fetches the link: it gets the page, the code stays unspent (it is never sent).
    const preview = await fetch(link);
    expect(preview.status).toBe(200);
    const first = await newPage();
    await signInWith(first, link);
    await expect.poll(() => first.getByText('signed in', { exact: true }).count()).toBe(1);

    const second = await newPage();
    await second.goto(link);
    await second.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => second.getByRole('alert').textContent()).toContain('This sign-in link was used already or has expired');
    await second.goto(`${controller.server.url}/signin#made-up`);
    await second.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => second.getByRole('alert').textContent()).toContain('used already or has expired');
    // A link past its ten minutes is refused the same way, unspent or not (the daemon's clock moved on).
    await second.goto(await signInLink());
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 10 * 60_000 + 1_000 });
    try {
      await second.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => second.getByRole('alert').textContent()).toContain('used already or has expired');
    } finally {
      vi.useRealTimers();
    }
    await second.goto(controller.server.url);
    await expect.poll(() => second.getByRole('heading', { name: 'Sign in' }).count()).toBe(1);
    expect(refused.filter((line) => line.startsWith('dashboard:'))).toHaveLength(3);

    // A socket of the session (a second tab, or a stolen cookie) closes when it signs out.
    const [cookie] = await first.context().cookies();
    const socket = new WebSocket(controller.server.wsUrl, { headers: { cookie: `${cookie!.name}=${cookie!.value}`, origin: controller.server.url } });
    const closed = new Promise<number>((resolve) => socket.on('close', (closeCode) => resolve(closeCode)));
    await new Promise((resolve) => socket.once('open', resolve));
    await first.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => first.getByRole('heading', { name: 'Sign in' }).count()).toBe(1);
    expect(await closed).toBe(4401);
    await first.context().close();
    await second.context().close();
  });

  it('a read-only session sees the job but has no actions, and the daemon refuses them to it', async () => {
    const page = await newPage({ width: 390, height: 844 });
    await signInWith(page, await signInLink('viewer'));
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

  it('a sign-in over plain HTTP to another name than this machine is refused before the code is spent: the cookie would be dropped', async () => {
    const link = await signInLink();
    const code = new URL(link).hash.slice(1);
    const port = new URL(controller.server.url).port;
    const post = (host: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const request = httpRequest(
          {
            host: '127.0.0.1',
            port,
            path: '/signin',
            method: 'POST',
            headers: { host, origin: `http://${host}`, 'content-type': 'application/x-www-form-urlencoded' },
          },
          (answer) => {
            let body = '';
            answer.on('data', (chunk: Buffer) => (body += chunk.toString()));
            answer.on('end', () => resolve({ status: answer.statusCode ?? 0, body }));
          },
        );
        request.on('error', reject);
        request.end(`code=${code}`);
      });
    const lan = await post(`plexlift.lan:${port}`);
    expect(lan.status).toBe(400);
    expect(lan.body).toMatch(/plain HTTP: a browser keeps the session cookie only over HTTPS .* Nothing was spent/);
    // The code is still good: at the loopback address it signs in.
    expect((await post(`127.0.0.1:${port}`)).status).toBe(200);
  });

  it("another site's page cannot use the cookie: a socket from another origin is closed with its own code", async () => {
    const page = await newPage();
    await signInWith(page, await signInLink());
    const [cookie] = await page.context().cookies();
    const closed = await new Promise<number>((resolve) => {
      const socket = new WebSocket(controller.server.wsUrl, { headers: { cookie: `${cookie!.name}=${cookie!.value}`, origin: 'https://attacker.example' } });
      socket.on('close', (code) => resolve(code));
      socket.on('error', () => undefined);
    });
    expect(closed).toBe(4403);
    expect(refused.some((line) => line.includes('a dashboard socket from another origin (https://attacker.example)'))).toBe(true);
    await page.context().close();
  });

  it('passes an axe-core accessibility check with no serious or critical violations, at phone and desktop sizes', async () => {
    for (const size of [
      { width: 390, height: 844 },
      { width: 1280, height: 800 },
    ]) {
      // axe is injected as a script of its own: the page's policy lets only its own scripts run.
      const context = await browser.newContext({ viewport: size, bypassCSP: true });
      const page = await context.newPage();
      await signInWith(page, await signInLink());
      await expect.poll(() => page.getByRole('heading', { name: /Job job-on-screen/ }).count()).toBe(1);
      expect(await seriousAxeViolations(page)).toEqual([]);
      await page.screenshot({ path: join(ARTIFACTS, `signed-in-${size.width}.png`), fullPage: true });
      await context.close();
    }
  });

  it("shows a finished job's report: before → after per library, phases, time and cost against the estimate", async () => {
    const counts = (movie: number) => ({ movie, show: 0, season: 0, episode: 0, artist: 0, album: 0, track: 0, photo: 0 });
    const section = (movies: number) => ({ id: 1, title: 'Movies', type: 'movie' as const, counts: counts(movies), deleted: 0, parts: movies });
    const spec = parseJobSpec({
      jobId: 'job-reported',
      mode: 'delta',
      plex: { version: '1.43.2.10687-563d026ea' },
      media: { mountPath: '/Media', remote: 's3:media' },
    });
    let done = controller.jobs.create({ id: 'job-reported', library: 'another-home', provider: 'local', spec, options: { keep: false, noInstall: false } });
    done = controller.jobs.transition(done, 'queued', 'provisioning')!;
    done = controller.jobs.transition(done, 'provisioning', 'running')!;
    done = controller.jobs.transition(done, 'running', 'verified')!;
    done = controller.jobs.transition(done, 'verified', 'installing')!;
    controller.jobs.transition(done, 'installing', 'done', {
      report: {
        libraries: diffLibraryStats({ sections: [section(40)] }, { sections: [section(42)] }),
        phases: { scan: { state: 'done', seconds: 75 }, install: { state: 'done', seconds: 9 } },
        hours: 0.5,
        cost: 0.11,
        estimate: { seconds: 1500, cost: 0.1, phases: {}, basis: '2 past delta runs of this library doing the same work' },
      },
    });
    const page = await newPage();
    await signInWith(page, await signInLink('viewer'));
    await page.getByRole('button', { name: /job-reported/ }).click();
    const report = page.getByRole('region', { name: 'Report' });
    await expect.poll(() => report.getByRole('row', { name: /Movies/ }).textContent()).toBe('Movies40 → 42 (+2)');
    expect(await report.textContent()).toContain('Phases: scan 1m15s, install 9s');
    expect(await report.textContent()).toContain('Time 30m00s, cost 0.11 € (estimated 25m00s, 0.1 €: 2 past delta runs of this library doing the same work)');
    await page.screenshot({ path: join(ARTIFACTS, 'desktop-report.png'), fullPage: true });
    await page.context().close();
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
