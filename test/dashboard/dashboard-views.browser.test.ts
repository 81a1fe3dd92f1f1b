import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { PlexliftError, type RunRequest } from '@plexlift/shared';
import { parseJobSpec, type AgentEvent } from '@plexlift/shared/protocol';
import { createControllerClient } from '../../packages/controller/src/client.js';
import { startController, type Controller } from '../../packages/controller/src/controller.js';
import type { JobControl, JobPlan, LibraryProgress } from '../../packages/controller/src/jobs/job-control.js';
import { dashboardBundleDir } from '../../packages/controller/src/server/dashboard-routes.js';
import { launchChromium, seriousAxeViolations } from '../utils/chromium.js';

const ADMIN = 'admin-secret-dashboard-views-0123456789';
/** Screenshots of each view, for a person to look at (git-ignored). */
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/dashboard/', import.meta.url));
const HOUR = 3_600_000;
const NOW = Date.now();

const specOf = (jobId: string, sections: string[] = []) =>
  parseJobSpec({
    jobId,
    mode: 'delta',
    sections,
    plex: { version: '1.43.2.10687-563d026ea' },
    media: { mountPath: '/Media', remote: 's3:media' },
    analyses: { sonic: true, loudness: true },
  });

// What the daemon's job runner, reaper and home side would answer (their own tests prove those):
// here the subject is the page.
const PROGRESS: LibraryProgress = {
  library: 'home',
  sections: [
    { id: 1, title: 'Music', type: 'artist', sonic: { analyzed: 1_234, total: 5_000 }, analyses: [{ name: 'loudness', done: 4_100, total: 5_000 }] },
    { id: 2, title: 'Movies', type: 'movie', analyses: [{ name: 'media analysis', done: 900, total: 1_000 }] },
  ],
  runs: [
    { jobId: 'job-running', startedAt: NOW - HOUR, state: 'running', outcome: 'under way' },
    { jobId: 'job-last-night', startedAt: NOW - 20 * HOUR, state: 'done', outcome: 'landed', hours: 5.98, cost: 1.27, tracksDone: 812, schedule: 'nightly' },
  ],
  remaining: { tracks: 3_766, analyses: 1_000 },
  estimate: { hours: 27.8, runs: 5, euros: 5.92, basis: 'the Sonic rate of 1 run: 136 tracks/h' },
  complete: false,
};

const PLAN_ESTIMATE = { seconds: 7_500, cost: 0.45, phases: { sonic: 6_000, upload: 300 }, basis: '2 past delta runs of this library' };

function planOf(request: RunRequest): JobPlan {
  const unknown = request.sections.filter((name) => !['Music', 'Movies'].includes(name));
  return {
    spec: specOf('job-planned', request.sections),
    provider: 'scaleway',
    hourlyPrice: 0.2128,
    caps: { maxHours: 12, maxCost: 10 },
    budget: { maxHours: 6, maxCost: 3 },
    expected: PLAN_ESTIMATE,
    checks: [
      { name: 'home Plex', ok: true, detail: 'answers at http://127.0.0.1:32400 (1.43.2.10687)' },
      unknown.length > 0
        ? { name: 'sections', ok: false, detail: `no section ${unknown.join(', ')} at home (there are Music, Movies)` }
        : { name: 'sections', ok: true, detail: request.sections.length > 0 ? request.sections.join(', ') : 'every section' },
      { name: 'media remote', ok: true, detail: 's3:media lists' },
    ],
  };
}

describe('the dashboard views and actions, in a real headless Chromium', () => {
  let controller: Controller;
  let browser: Browser;
  const calls = {
    plan: [] as RunRequest[],
    run: [] as RunRequest[],
    land: [] as string[],
    install: [] as { jobId: string; allowDeletions: boolean | undefined }[],
    rollback: [] as (string | undefined)[],
    abort: [] as string[],
    doctor: 0,
  };
  /** Holds a rollback until the test lets it finish (the buttons wait meanwhile). */
  let rollbackGate: Promise<void> = Promise.resolve();
  const dir = mkdtempSync(join(tmpdir(), 'plexlift-dashboard-views-'));

  const control: JobControl = {
    abort: (jobId) => {
      calls.abort.push(jobId);
      return Promise.resolve();
    },
    plan: (request) => {
      calls.plan.push(request);
      if (request.mode === 'scan' && !request.yes)
        return Promise.reject(
          new PlexliftError(
            'SAFETY_STOP',
            'a scan job builds a new library: every id changes and the watch history of 37 items would not carry over; use a delta job, or pass --yes to do it anyway',
          ),
        );
      return Promise.resolve(planOf(request));
    },
    run: (request) => {
      calls.run.push(request);
      // Another library than the running job's: the store keeps one live job per library.
      let job = controller.jobs.create({
        id: 'job-started',
        library: 'music-box',
        provider: 'scaleway',
        spec: specOf('job-started', request.sections),
        options: request,
      });
      job = controller.jobs.transition(job, 'queued', 'provisioning')!;
      return Promise.resolve({ ...job, estimate: { hourlyPrice: 0.2128, caps: { maxHours: 12, maxCost: 10 }, expected: PLAN_ESTIMATE } });
    },
    land: (jobId, reason) => {
      calls.land.push(jobId);
      expect(reason).toBe('asked from the dashboard');
      return { jobId, state: 'running', ordered: true, detail: 'landing (sonic): the work done so far comes home and is installed; run again to continue' };
    },
    install: (jobId, request) => {
      calls.install.push({ jobId, allowDeletions: request?.allowDeletions });
      let job = controller.jobs.get(jobId)!;
      job = controller.jobs.transition(job, 'verified', 'installing')!;
      return Promise.resolve(controller.jobs.transition(job, 'installing', 'done')!);
    },
    // The running job's meter (as JobRunner.meter reads it from the store): 30 min at the Scaleway price, a budget of 2 €.
    meter: (jobId) =>
      jobId === 'job-running'
        ? {
            hourlyPrice: 0.2128,
            hours: 0.5,
            euros: 0.1064,
            budget: { maxHours: 12, maxCost: 2 },
            budgetEnds: { at: NOW + 8 * HOUR, what: 'its cost cap of 2 € (at 0.2128 €/h)' },
            bytes: { restore: 48_200_000, export: 1_500_000 },
          }
        : undefined,
    progress: () => PROGRESS,
    schedule: () => [
      {
        name: 'nightly',
        cron: '0 1 * * *',
        windowHours: 6,
        nextStart: NOW + 3 * HOUR,
        until: 'complete',
        finished: false,
        last: { at: NOW - 20 * HOUR, outcome: 'started', jobId: 'job-last-night', detail: 'started job-last-night' },
      },
      {
        name: 'weekend',
        cron: '0 9 * * 6',
        windowHours: 10,
        nextStart: NOW + 50 * HOUR,
        finished: false,
        last: { at: NOW - 100 * HOUR, outcome: 'skipped', detail: 'job job-older was still running on this library' },
      },
    ],
    holdings: () =>
      Promise.resolve([
        {
          provider: 'scaleway',
          jobId: 'job-running',
          resource: { serverId: 'srv-1' },
          jobState: 'running',
          owned: true,
          description: 'server plexlift-job-running (POP2-HC-8C-16G, fr-par-2)',
          createdAt: NOW - 3 * HOUR,
        },
        {
          provider: 'scaleway',
          jobId: 'job-gone',
          resource: { volumeId: 'vol-9' },
          jobState: undefined,
          owned: false,
          description: 'volume plexlift-job-gone (50 GB)',
          createdAt: NOW - 50 * HOUR,
        },
      ]),
    backups: () => [
      { name: '2026-05-03T01-12-09Z-job-last-night', jobId: 'job-last-night', createdAt: new Date(NOW - 14 * HOUR).toISOString(), replaced: 3, added: 1 },
      { name: '2026-04-28T02-40-51Z-job-older', jobId: 'job-older', createdAt: new Date(NOW - 120 * HOUR).toISOString(), replaced: 3, added: 0 },
    ],
    rollback: async (backup) => {
      calls.rollback.push(backup);
      await rollbackGate;
      return { backup: backup ?? 'newest', jobId: backup?.replace(/^.*Z-/, '') ?? 'job-last-night' };
    },
    doctor: () => {
      calls.doctor++;
      return Promise.resolve([
        { name: 'config', ok: true, detail: '/etc/plexlift/config.json is valid' },
        { name: 'home Plex', ok: true, detail: 'answers (1.43.2.10687)' },
        { name: 'plex.tv', ok: true, detail: 'the owner has Plex Pass' },
        { name: 'scaleway API', ok: false, detail: 'the secret key is refused (401): set providers.scaleway.secretKey' },
      ]);
    },
  };

  beforeAll(async () => {
    controller = await startController({
      stateDir: join(dir, 'state'),
      adminToken: ADMIN,
      host: '127.0.0.1',
      dashboardDir: dashboardBundleDir(),
      agentJob: () => Promise.reject(new Error('no agent in this test')),
      control,
    });
    let running = controller.jobs.create({
      id: 'job-running',
      library: 'home',
      provider: 'scaleway',
      spec: specOf('job-running'),
      options: { keep: false, noInstall: false },
    });
    running = controller.jobs.transition(running, 'queued', 'provisioning')!;
    controller.jobs.transition(running, 'provisioning', 'running');
    let verified = controller.jobs.create({
      id: 'job-verified',
      library: 'attic',
      provider: 'scaleway',
      spec: specOf('job-verified'),
      options: { keep: false, noInstall: true },
    });
    verified = controller.jobs.transition(verified, 'queued', 'provisioning')!;
    verified = controller.jobs.transition(verified, 'provisioning', 'running')!;
    controller.jobs.transition(verified, 'running', 'verified');
    // Its machine is still being deleted: the runner drives it until then.
    emit('job-verified', 'v:1', { type: 'phase:start', phase: 'teardown' });
    browser = await launchChromium();
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  /** An event of a job as its agent or runner stores it: the page hears it live. */
  function emit(jobId: string, key: string, event: AgentEvent): void {
    const stored = controller.jobs.appendEvent(jobId, key, event);
    if (stored) controller.bus.eventStored(stored);
  }

  afterAll(async () => {
    await browser?.close();
    await controller?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A page signed in through a one-time link, as `plexlift dashboard [--read-only]` gives it. */
  async function signedIn(role: 'admin' | 'viewer', size = { width: 1280, height: 800 }, options: { bypassCSP?: boolean } = {}): Promise<Page> {
    const admin = createControllerClient({ url: controller.server.url, token: ADMIN });
    const link = `${controller.server.url}${(await admin.dashboard.signInLink.mutate({ role })).path}`;
    await admin.close();
    const page = await (await browser.newContext({ viewport: size, ...options })).newPage();
    await page.goto(link);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${controller.server.url}/`);
    await expect.poll(() => page.getByText(role === 'admin' ? 'signed in' : 'signed in, read-only', { exact: true }).count()).toBe(1);
    return page;
  }

  const nav = (page: Page) => page.getByRole('navigation', { name: 'Views' });
  const heading = (page: Page, name: string | RegExp) => page.getByRole('heading', { name, level: 2 });
  const noCalls = () => ({ plan: [], run: [], land: [], install: [], rollback: [], abort: [], doctor: 0 });
  function resetCalls(): void {
    Object.assign(calls, noCalls());
  }

  it('shows each view with its data, goes between them by links and the back button, at phone and desktop sizes, and passes axe-core', async () => {
    for (const size of [
      { width: 390, height: 844 },
      { width: 1280, height: 800 },
    ]) {
      // axe is injected as a script of its own: the page's policy lets only its own scripts run.
      const page = await signedIn('admin', size, { bypassCSP: true });
      const local = (at: number) => page.evaluate((ms) => new Date(ms).toLocaleString(), at);
      const check = async (name: string) => {
        expect(await seriousAxeViolations(page)).toEqual([]);
        // Nothing is wider than a phone: the page never scrolls sideways.
        expect(
          await page.evaluate(
            '[...document.querySelectorAll("body *")].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest(".table-scroll")).map((e) => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right))',
          ),
        ).toEqual([]);
        await page.screenshot({ path: join(ARTIFACTS, `view-${name}-${size.width}.png`), fullPage: true });
      };

      // The jobs, as the page opens.
      await expect.poll(() => heading(page, /Job job-/).count()).toBe(1);
      expect(await nav(page).getByRole('link', { name: 'Jobs' }).getAttribute('aria-current')).toBe('page');
      await check('jobs');

      await nav(page).getByRole('link', { name: 'Progress' }).click();
      expect(new URL(page.url()).hash).toBe('#/progress');
      const music = page.getByRole('progressbar', { name: 'Sonic of Music' });
      await expect.poll(() => music.getAttribute('value')).toBe('1234');
      expect(await music.getAttribute('max')).toBe('5000');
      const progress = page.getByRole('region', { name: 'Progress across runs' });
      expect(await progress.textContent()).toContain('Sonic: 1,234 of 5,000 (24.6 %)');
      expect(await progress.textContent()).toContain('media analysis: 900 of 1,000 (90.0 %)');
      expect(await page.getByTestId('progress-summary').textContent()).toBe(
        'Left: 3,766 Sonic tracks, 1,000 items of loudness, media analysis.Estimate: 5 more runs, 27.8 h, 5.92 € (the Sonic rate of 1 run: 136 tracks/h).',
      );
      const lastNight = page.getByRole('row', { name: /job-last-night/ });
      expect(await lastNight.textContent()).toBe(`job-last-night${await local(NOW - 20 * HOUR)}5.981.27 €812landed (schedule nightly)`);
      expect(await page.getByRole('row', { name: /job-running/ }).textContent()).toContain('under way');
      await check('progress');

      await nav(page).getByRole('link', { name: 'Schedule' }).click();
      const nightly = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'nightly' }) });
      await expect.poll(() => nightly.count()).toBe(1);
      expect(await nightly.textContent()).toBe(
        `nightlyWhen0 1 * * *, for 6 h, until the library is completeNext start${await local(NOW + 3 * HOUR)} (in 3 h)Laststarted job-last-night (${await local(NOW - 20 * HOUR)})`,
      );
      const weekend = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'weekend' }) });
      expect(await weekend.textContent()).toContain(`${await local(NOW + 50 * HOUR)} (in 2 days)`);
      expect(await weekend.textContent()).toContain('skipped: job job-older was still running on this library');
      await check('schedule');

      await nav(page).getByRole('link', { name: 'VMs' }).click();
      const server = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: /server plexlift-job-running/ }) });
      await expect.poll(() => server.count()).toBe(1);
      expect(await server.textContent()).toBe(
        'server plexlift-job-running (POP2-HC-8C-16G, fr-par-2)ProviderscalewayJobjob-running (running)Ownedyes, by its live jobAge3 h',
      );
      const orphan = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: /volume plexlift-job-gone/ }) });
      expect(await orphan.textContent()).toBe('volume plexlift-job-gone (50 GB)ProviderscalewayJobjob-gone (unknown job)Ownedno: an orphanAge2 days');
      await check('vms');

      await nav(page).getByRole('link', { name: 'Backups' }).click();
      await expect.poll(() => page.getByRole('button', { name: /^Roll back to / }).count()).toBe(2);
      const older = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: '2026-04-28T02-40-51Z-job-older' }) });
      expect(await older.textContent()).toContain(`Made ${await local(NOW - 120 * HOUR)} before job job-older: 3 files it replaced, 0 it added.`);
      await check('backups');

      // The doctor runs only when asked: it calls plex.tv and the cloud's API.
      await nav(page).getByRole('link', { name: 'Doctor' }).click();
      await heading(page, 'Doctor').waitFor();
      const doctorRuns = calls.doctor;
      await page.getByRole('button', { name: 'Run the doctor' }).click();
      await expect.poll(() => page.getByRole('status').textContent()).toBe('1 of 4 checks to fix.');
      expect(calls.doctor).toBe(doctorRuns + 1);
      expect(await page.getByRole('listitem').filter({ hasText: 'scaleway API' }).textContent()).toBe(
        'FIX scaleway API: the secret key is refused (401): set providers.scaleway.secretKey',
      );
      expect(await page.getByRole('listitem').filter({ hasText: 'plex.tv' }).textContent()).toBe('ok plex.tv: the owner has Plex Pass');
      await check('doctor');

      await nav(page).getByRole('link', { name: 'Run' }).click();
      await heading(page, 'Start a run').waitFor();
      await check('run');

      // A phone's back button goes back through the views.
      await page.goBack();
      await expect.poll(() => new URL(page.url()).hash).toBe('#/doctor');
      await heading(page, 'Doctor').waitFor();
      await page.goBack();
      await heading(page, 'Backups').waitFor();
      await page.context().close();
    }
  });

  it('a read-only session sees every view but no action, and the daemon refuses one it forces', async () => {
    const page = await signedIn('viewer', { width: 390, height: 844 });
    await expect.poll(() => heading(page, /Job job-/).count()).toBe(1);
    expect(await nav(page).getByRole('link').allTextContents()).toEqual(['Jobs', 'Progress', 'Schedule', 'VMs', 'Backups', 'Doctor']);
    for (const id of ['job-running', 'job-verified']) {
      await page.goto(`${controller.server.url}/#/jobs/${id}`);
      await expect.poll(() => heading(page, new RegExp(`Job ${id}`)).count()).toBe(1);
      expect(await page.getByRole('region', { name: 'Actions' }).count()).toBe(0);
    }
    await nav(page).getByRole('link', { name: 'Progress' }).click();
    await expect.poll(() => page.getByRole('progressbar', { name: 'Sonic of Music' }).count()).toBe(1);
    await nav(page).getByRole('link', { name: 'VMs' }).click();
    await expect.poll(() => page.getByText('no: an orphan').count()).toBe(1);
    await nav(page).getByRole('link', { name: 'Backups' }).click();
    await expect.poll(() => page.getByRole('heading', { name: '2026-04-28T02-40-51Z-job-older' }).count()).toBe(1);
    expect(await page.getByRole('button', { name: /Roll back/ }).count()).toBe(0);
    await nav(page).getByRole('link', { name: 'Doctor' }).click();
    await expect.poll(() => page.getByText('The doctor is for a full session', { exact: false }).count()).toBe(1);
    expect(await page.getByRole('button', { name: /doctor/ }).count()).toBe(0);
    await page.goto(`${controller.server.url}/#/run`);
    await expect.poll(() => page.getByText('Starting a run is for a full session', { exact: false }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Plan…' }).count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'view-run-read-only-390.png'), fullPage: true });

    // Its cookie on a socket of its own: the rollback and the doctor are refused, the read answers.
    const [cookie] = await page.context().cookies();
    const answers = await tRpcOverSocket(`${cookie!.name}=${cookie!.value}`, controller.server.url, [
      { method: 'query', path: 'home.backups', input: undefined },
      { method: 'mutation', path: 'home.rollback', input: {} },
      { method: 'query', path: 'daemon.doctor', input: undefined },
    ]);
    expect(answers[0]).toMatchObject({ result: { data: [{ name: '2026-05-03T01-12-09Z-job-last-night' }, {}] } });
    expect(answers[1]).toMatchObject({ error: { data: { code: 'UNAUTHORIZED' } } });
    expect(answers[2]).toMatchObject({ error: { data: { code: 'UNAUTHORIZED' } } });
    expect(calls.rollback).toEqual([]);
    await page.context().close();
  });

  it('starts a run only through its plan: the estimate and checks shown, Start disabled by a failing check, a cancel starts nothing', async () => {
    resetCalls();
    const page = await signedIn('admin', { width: 390, height: 844 });
    const consoleErrors: string[] = [];
    page.on('console', (message) => message.type() === 'error' && consoleErrors.push(message.text()));
    await nav(page).getByRole('link', { name: 'Run' }).click();
    const dialog = page.getByRole('dialog', { name: 'Start this run?' });

    // The daemon's refusal, in its words.
    await page.getByLabel('Mode').selectOption('scan');
    await page.getByRole('button', { name: 'Plan…' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('No plan: a scan job builds a new library');
    await page.getByLabel('Mode').selectOption('delta');

    // A check that fails: Start is disabled, and says why.
    await page.getByLabel('Sections').fill('Music, Nowhere');
    await page.getByRole('button', { name: 'Plan…' }).click();
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await dialog.getByRole('listitem').filter({ hasText: 'sections' }).textContent()).toBe(
      'FIX sections: no section Nowhere at home (there are Music, Movies)',
    );
    const startButton = dialog.getByRole('button', { name: 'Start the run' });
    expect(await startButton.isDisabled()).toBe(true);
    expect(await dialog.textContent()).toContain('Start is disabled: fix sections first, then plan again.');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await dialog.isVisible()).toBe(false);

    await page.getByLabel('Sections').fill('Music');
    await page.getByLabel('Skip Sonic').check();
    await page.getByRole('button', { name: 'Plan…' }).click();
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await dialog.getByTestId('plan-estimate').textContent()).toBe(
      'Expected: about 2h05m, ≈ 0.45 € (from 2 past delta runs of this library). 0.2128 €/h, lands its work before 6 h or 3 €, stopped at 12 h or 10 € whatever happens.',
    );
    expect(await dialog.textContent()).toContain('A delta job on scaleway, Plex 1.43.2.10687-563d026ea, sections Music');
    expect(await dialog.getByRole('listitem').filter({ hasText: 'sections' }).textContent()).toBe('ok sections: Music');
    await page.screenshot({ path: join(ARTIFACTS, 'view-run-plan-390.png'), fullPage: true });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(calls.run).toEqual([]);

    await page.getByRole('button', { name: 'Plan…' }).click();
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await startButton.isDisabled()).toBe(false);
    await startButton.click();
    await vi.waitFor(() => expect(calls.run).toHaveLength(1));
    // The very request planned, and the new job shown.
    expect(calls.run[0]).toMatchObject({ mode: 'delta', sections: ['Music'], skipSonic: true, noInstall: false });
    expect(calls.run[0]).toEqual(calls.plan.at(-1));
    expect(calls.plan.map((request) => request.sections)).toEqual([[], ['Music', 'Nowhere'], ['Music'], ['Music']]);
    await expect.poll(() => new URL(page.url()).hash).toBe('#/jobs/job-started');
    await expect.poll(() => heading(page, /Job job-started/).count()).toBe(1);
    expect(await page.getByRole('status').textContent()).toBe('Started job job-started: a delta job on scaleway.');
    await expect.poll(() => page.getByRole('button', { name: /job-started/ }).getAttribute('aria-current')).toBe('true');
    expect(consoleErrors).toEqual([]);
    await page.context().close();
  });

  it('lands a running job and installs a verified one, each after asking; a cancel changes nothing', async () => {
    resetCalls();
    const page = await signedIn('admin');
    await page.goto(`${controller.server.url}/#/jobs/job-running`);
    await expect.poll(() => heading(page, /Job job-running/).count()).toBe(1);
    // What it costs so far against its budget, and what it moved.
    const meter = page.getByRole('region', { name: 'Cost and transfers' });
    expect(await meter.getByTestId('job-cost').textContent()).toMatch(
      /^Cost so far: ≈ 0\.\d\d € \(0\.\d\d h at 0\.2128 €\/h\); limits 2 €, 12 h; lands before its cost cap of 2 € \(at 0\.2128 €\/h\), .+$/,
    );
    expect(await meter.getByTestId('job-bytes').textContent()).toBe("Moved: 48.2 MB of home's library to the machine, 1.5 MB of its archive home");
    const actions = page.getByRole('region', { name: 'Actions' });
    // A job on its way does not offer an install; a verified one does not offer a landing.
    expect(await actions.getByRole('button', { name: 'Install…' }).count()).toBe(0);

    const land = page.getByRole('dialog', { name: 'Land job job-running now?' });
    await actions.getByRole('button', { name: 'Land job…' }).click();
    await expect.poll(() => land.isVisible()).toBe(true);
    expect(await land.textContent()).toContain('The job brings home the work done so far and installs it into home Plex');
    await land.getByRole('button', { name: 'Keep it running' }).click();
    expect(calls.land).toEqual([]);
    await actions.getByRole('button', { name: 'Land job…' }).click();
    await land.getByRole('button', { name: 'Land it' }).click();
    await expect
      .poll(() => actions.getByRole('status').textContent())
      .toBe('Job job-running: landing (sonic): the work done so far comes home and is installed; run again to continue.');
    expect(calls.land).toEqual(['job-running']);

    await page.getByRole('button', { name: /job-verified/ }).click();
    await expect.poll(() => heading(page, /Job job-verified/).count()).toBe(1);
    expect(await actions.getByRole('button', { name: 'Land job…' }).count()).toBe(0);
    // A --no-install job waits for its install once its machine is deleted, not before.
    await expect.poll(() => page.getByRole('region', { name: 'Phases' }).getByText('teardown').count()).toBe(1);
    expect(await actions.getByRole('button', { name: 'Install…' }).count()).toBe(0);
    emit('job-verified', 'v:2', { type: 'phase:complete', phase: 'teardown', summary: {} });
    await expect.poll(() => actions.getByRole('button', { name: 'Install…' }).count()).toBe(1);
    const install = page.getByRole('dialog', { name: 'Install job job-verified into home Plex?' });
    await actions.getByRole('button', { name: 'Install…' }).click();
    await expect.poll(() => install.isVisible()).toBe(true);
    expect(await install.textContent()).toContain('Home Plex is stopped, a backup of its database is made');
    await page.screenshot({ path: join(ARTIFACTS, 'view-install-dialog-1280.png') });
    await install.getByRole('button', { name: 'Not now' }).click();
    expect(calls.install).toEqual([]);
    await actions.getByRole('button', { name: 'Install…' }).click();
    await install.getByLabel('Install even if the job lost more items than the deletion cap').check();
    await install.getByRole('button', { name: 'Install' }).click();
    await expect.poll(() => actions.getByRole('status').textContent()).toBe('Installed: job job-verified is done.');
    expect(calls.install).toEqual([{ jobId: 'job-verified', allowDeletions: true }]);
    // The job is asked again: done, nothing left to do with it.
    await expect.poll(() => heading(page, /Job job-verified/).textContent()).toContain('done');
    expect(await actions.getByRole('button').count()).toBe(0);
    expect(calls.abort).toEqual([]);
    await page.context().close();
  });

  it('rolls back to the backup named after asking, every button waiting meanwhile; a cancel and a refusal change nothing', async () => {
    resetCalls();
    const page = await signedIn('admin', { width: 390, height: 844 });
    await nav(page).getByRole('link', { name: 'Backups' }).click();
    const older = '2026-04-28T02-40-51Z-job-older';
    const button = page.getByRole('button', { name: `Roll back to ${older}…` });
    const dialog = page.getByRole('dialog', { name: `Roll back to ${older}?` });
    await button.click();
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await dialog.textContent()).toContain("Home Plex's database is put back as it was before job job-older");
    expect(await dialog.textContent()).toContain('Home Plex is stopped and started, and what it learnt since is lost.');
    await page.screenshot({ path: join(ARTIFACTS, 'view-rollback-dialog-390.png') });
    await dialog.getByRole('button', { name: 'Keep home as it is' }).click();
    expect(calls.rollback).toEqual([]);

    let release!: () => void;
    rollbackGate = new Promise((resolve) => (release = resolve));
    await button.click();
    await dialog.getByRole('button', { name: 'Roll back' }).click();
    await vi.waitFor(() => expect(calls.rollback).toEqual([older]));
    const busy = page.getByRole('button', { name: 'Rolling back…' });
    await expect.poll(() => busy.getAttribute('aria-busy')).toBe('true');
    expect(await busy.isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: /^Roll back to / }).isDisabled()).toBe(true);
    release();
    await expect.poll(() => page.getByRole('status').textContent()).toBe(`Rolled back to ${older} (made before job job-older): home Plex is running again.`);
    await expect
      .poll(async () => Promise.all((await page.getByRole('button', { name: /^Roll back to / }).all()).map((each) => each.isDisabled())))
      .toEqual([false, false]);

    // A refusal is said in the daemon's words.
    rollbackGate = Promise.reject(new PlexliftError('BAD_ARGUMENT', 'job job-running will install when it ends: a rollback now would be undone'));
    rollbackGate.catch(() => undefined);
    await button.click();
    await dialog.getByRole('button', { name: 'Roll back' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toBe('Not rolled back: job job-running will install when it ends: a rollback now would be undone');
    rollbackGate = Promise.resolve();
    await page.context().close();
  });
});

/** tRPC calls over the daemon's WebSocket as a browser would make them (its cookie and origin), one answer each. */
function tRpcOverSocket(cookie: string, origin: string, calls: { method: 'query' | 'mutation'; path: string; input: unknown }[]): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(origin.replace(/^http/, 'ws'), { headers: { cookie, origin } });
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
