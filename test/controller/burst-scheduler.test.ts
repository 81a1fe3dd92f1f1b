import { join } from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { parseConfig, PlexliftError, type RunRequest } from '@plexlift/shared';
import { parseJobSpec } from '@plexlift/shared/protocol';
import { startController } from '../../packages/controller/src/controller.js';
import { BurstScheduler } from '../../packages/controller/src/jobs/burst-scheduler.js';
import { createLogger } from '../../packages/controller/src/logger.js';
import { JobStore, type JobRecord } from '../../packages/controller/src/store/job-store.js';
import { ScheduleStore } from '../../packages/controller/src/store/schedule-store.js';
import { openStoreDatabase, type StoreDatabase } from '../../packages/controller/src/store/schema.js';
import { runCli } from '../utils/run-cli.js';
import { createTempDir } from '../utils/temp-dir.js';

const HOUR = 3_600_000;
const HOME = '/srv/plex/Plex Media Server';

/** A run as the runner records it: a live job of the library (the store refuses a second one). */
function recordJob(jobs: JobStore, request: RunRequest, id: string): JobRecord {
  const spec = parseJobSpec({ jobId: id, mode: request.mode, plex: { version: '1.43.2.10687-563d026ea' }, media: { mountPath: '/Media', remote: 's3:media' } });
  const job = jobs.create({
    id,
    library: HOME,
    provider: 'local',
    spec,
    options: { keep: false, noInstall: false, deadline: request.deadline, schedule: request.schedule },
  });
  return jobs.transition(job, 'queued', 'provisioning')!;
}

/** The job ends (its machine deleted): the library is free for the next run. */
function endJob(jobs: JobStore, id: string): void {
  const job = jobs.get(id)!;
  jobs.transition(job, job.state, 'failed', { error: { code: 'UNEXPECTED', message: 'ended by the test' } });
}

interface Setup {
  db?: StoreDatabase;
  complete?: () => boolean;
  /** What `run` does instead of recording a job. */
  run?: (request: RunRequest) => Promise<{ id: string }>;
}

/**
 * A scheduler over a real store, with a `run` that records a live job as the runner does and
 * keeps each request with the time it came.
 */
function setup(schedule: unknown[], options: Setup = {}) {
  const db = options.db ?? openStoreDatabase(join(createTempDir(), 'plexlift.db'));
  if (!options.db) onTestFinished(() => void db.close());
  const config = parseConfig({ home: { plexDataDir: HOME, control: { type: 'systemd', unit: 'plexmediaserver.service' } }, schedule }, 'test');
  const jobs = new JobStore(db);
  const store = new ScheduleStore(db);
  const calls: { request: RunRequest; at: number }[] = [];
  const logged: string[] = [];
  const run = vi.fn((request: RunRequest) => {
    calls.push({ request, at: Date.now() });
    return options.run ? options.run(request) : Promise.resolve(recordJob(jobs, request, `job-${calls.length}`));
  });
  const scheduler = new BurstScheduler({
    config,
    jobs,
    store,
    run,
    isComplete: options.complete ?? (() => false),
    logger: createLogger((level, line) => logged.push(`${level}: ${line}`)),
  });
  onTestFinished(() => scheduler.stop());
  return { db, config, jobs, store, scheduler, run, calls, logged };
}

/** A six-field cron (seconds first) that matches only `ms`'s local second (once a year). */
function cronAt(ms: number): string {
  const at = new Date(ms);
  return `${at.getSeconds()} ${at.getMinutes()} ${at.getHours()} ${at.getDate()} ${at.getMonth() + 1} *`;
}

const wholeSecond = (ms: number) => Math.floor(ms / 1000) * 1000;
const EVERY_TWO_SECONDS = '*/2 * * * * *';

describe('BurstScheduler', () => {
  it("starts a run at each of the cron's starts, with the window's end as its deadline and the entry's name", async () => {
    const { scheduler, jobs, store, calls } = setup([
      { name: 'sonic-burst', cron: EVERY_TWO_SECONDS, windowHours: 1, maxCost: 3, run: { mode: 'delta', sections: ['Music'], skipAnalysis: true } },
    ]);
    scheduler.start();
    // The latest start (up to 2 s ago) has its window open: it runs at once.
    await vi.waitFor(() => expect(calls).toHaveLength(1), { timeout: 1_000 });
    endJob(jobs, 'job-1');
    await vi.waitFor(() => expect(calls).toHaveLength(2), { timeout: 3_000, interval: 50 });

    const [first, second] = calls.map(({ request, at }) => ({ request, at, firing: request.deadline! - HOUR }));
    for (const call of [first!, second!]) {
      expect(call.firing % 2_000).toBe(0);
      expect(call.firing).toBeLessThanOrEqual(call.at);
      expect(call.request).toEqual({
        mode: 'delta',
        sections: ['Music'],
        forceRefresh: false,
        skipAnalysis: true,
        skipSonic: false,
        allowDeletions: false,
        keep: false,
        noInstall: false,
        yes: false,
        maxCost: 3,
        deadline: call.firing + HOUR,
        schedule: 'sonic-burst',
      });
    }
    // The second came from the timer, at its start (not from polling a second later).
    expect(second!.firing).toBeGreaterThan(first!.firing);
    expect(second!.at - second!.firing).toBeLessThan(900);
    await vi.waitFor(() => expect(store.last('sonic-burst')?.jobId).toBe('job-2'));
    expect(store.list('sonic-burst')).toEqual([
      { entry: 'sonic-burst', at: second!.firing, outcome: 'started', jobId: 'job-2', detail: `deadline ${new Date(second!.firing + HOUR).toISOString()}` },
      { entry: 'sonic-burst', at: first!.firing, outcome: 'started', jobId: 'job-1', detail: expect.stringMatching(/^deadline /) as string },
    ]);
    const [view] = scheduler.view();
    expect(view).toMatchObject({
      name: 'sonic-burst',
      cron: EVERY_TWO_SECONDS,
      windowHours: 1,
      finished: false,
      last: { at: second!.firing, outcome: 'started', jobId: 'job-2' },
    });
    expect(view!.nextStart! % 2_000).toBe(0);
    expect(view!.nextStart).toBeGreaterThan(Date.now() - 1_000);
  });

  it('skips a start while a job of the library is live, records it, and runs again once the job ended', async () => {
    const { scheduler, jobs, store, calls } = setup([{ name: 'sonic-burst', cron: EVERY_TWO_SECONDS, windowHours: 1, run: { mode: 'delta' } }]);
    scheduler.start();
    await vi.waitFor(() => expect(calls).toHaveLength(1), { timeout: 1_000 });
    // job-1 is still provisioning at the next start.
    await vi.waitFor(() => expect(store.last('sonic-burst')?.outcome).toBe('skipped'), { timeout: 3_000, interval: 50 });
    const skipped = store.last('sonic-burst')!;
    expect(skipped.detail).toBe('job job-1 is still provisioning on this library; one job at a time');
    expect(skipped.jobId).toBeUndefined();
    expect(scheduler.view()[0]!.last).toEqual({ at: skipped.at, outcome: 'skipped', detail: skipped.detail });
    expect(calls).toHaveLength(1);

    endJob(jobs, 'job-1');
    await vi.waitFor(() => expect(calls).toHaveLength(2), { timeout: 3_000, interval: 50 });
    expect(calls[1]!.request.deadline! - HOUR).toBeGreaterThan(skipped.at);
  });

  it('records as skipped a job recorded between its check and its run, and as failed a run that could not start', async () => {
    let answer: () => Promise<{ id: string }> = () =>
      Promise.reject(new PlexliftError('SAFETY_STOP', 'job job-x is still running on this library; one job at a time', { details: { running: 'job-x' } }));
    const { scheduler, store, calls } = setup([{ name: 'sonic-burst', cron: EVERY_TWO_SECONDS, windowHours: 1, run: { mode: 'delta' } }], {
      run: () => answer(),
    });
    scheduler.start();
    await vi.waitFor(() => expect(calls).toHaveLength(1), { timeout: 1_000 });
    await vi.waitFor(() =>
      expect(store.last('sonic-burst')).toMatchObject({ outcome: 'skipped', detail: 'job job-x is still running on this library; one job at a time' }),
    );
    // Home Plex busy with a rollback the daemon is doing (home-guard.ts): a skip too.
    answer = () =>
      Promise.reject(
        new PlexliftError('SAFETY_STOP', 'cannot start a job now: the daemon is busy with home Plex (roll back under way); nothing was changed', {
          details: { busy: 'roll back' },
        }),
      );
    await vi.waitFor(() => expect(calls).toHaveLength(2), { timeout: 3_000, interval: 50 });
    await vi.waitFor(() => expect(store.last('sonic-burst')).toMatchObject({ outcome: 'skipped', detail: expect.stringMatching(/busy with home Plex/) }), {
      timeout: 3_000,
      interval: 50,
    });
    answer = () => Promise.reject(new PlexliftError('CONFIG_INVALID', 'home: not set; plexlift init sets it'));
    await vi.waitFor(() => expect(calls).toHaveLength(3), { timeout: 3_000, interval: 50 });
    await vi.waitFor(() => expect(store.last('sonic-burst')).toMatchObject({ outcome: 'failed', detail: 'home: not set; plexlift init sets it' }), {
      timeout: 3_000,
      interval: 50,
    });
  });

  it('stops scheduling an `until: complete` entry once the progress says nothing is left', async () => {
    let complete = false;
    const { scheduler, jobs, calls, logged } = setup(
      [{ name: 'until-done', cron: EVERY_TWO_SECONDS, windowHours: 1, until: 'complete', run: { mode: 'delta' } }],
      {
        complete: () => complete,
      },
    );
    scheduler.start();
    await vi.waitFor(() => expect(calls).toHaveLength(1), { timeout: 1_000 });
    endJob(jobs, 'job-1');
    complete = true;
    await vi.waitFor(() => expect(scheduler.view()[0]!.finished).toBe(true), { timeout: 3_000, interval: 50 });
    const [view] = scheduler.view();
    expect(view!.nextStart).toBeUndefined();
    expect(view!.until).toBe('complete');
    expect(view!.last).toMatchObject({ outcome: 'started', jobId: 'job-1' });
    expect(logged).toContain('info: schedule until-done: complete, nothing is left to do; no more runs (until: complete)');
    // Two more starts go by: nothing runs, even with the library free again.
    complete = false;
    await new Promise((resolve) => setTimeout(resolve, 4_200));
    expect(calls).toHaveLength(1);
  });

  it('starts nothing for an `until: complete` entry that is complete at start', () => {
    const { scheduler, calls } = setup([{ name: 'until-done', cron: EVERY_TWO_SECONDS, windowHours: 1, until: 'complete', run: { mode: 'delta' } }], {
      complete: () => true,
    });
    scheduler.start();
    expect(calls).toHaveLength(0);
    expect(scheduler.view()).toEqual([{ name: 'until-done', cron: EVERY_TWO_SECONDS, windowHours: 1, until: 'complete', finished: true }]);
  });

  it('catches up at start on a start the daemon missed while its window is open, with the same window end, once', async () => {
    const missed = wholeSecond(Date.now() - 30 * 60_000);
    const schedule = [{ name: 'nightly', cron: cronAt(missed), windowHours: 1, run: { mode: 'delta' } }];
    const { db, scheduler, store, calls } = setup(schedule);
    scheduler.start();
    // At once: start() itself asks for the run.
    expect(calls).toHaveLength(1);
    expect(calls[0]!.request).toMatchObject({ deadline: missed + HOUR, schedule: 'nightly' });
    await vi.waitFor(() => expect(store.last('nightly')).toMatchObject({ at: missed, outcome: 'started', jobId: 'job-1' }));
    expect(store.last('nightly')!.detail).toMatch(new RegExp(`^deadline ${new Date(missed + HOUR).toISOString()}, caught up at `));
    expect(scheduler.view()[0]!.nextStart).toBe(new Date(missed).setFullYear(new Date(missed).getFullYear() + 1));

    // A daemon restarted in the same window (the job over already) does not start it again.
    await scheduler.stop();
    const restarted = setup(schedule, { db });
    restarted.scheduler.start();
    expect(restarted.calls).toHaveLength(0);
    expect(store.list('nightly')).toHaveLength(1);
  });

  it('does not run a missed start late once its window has closed', () => {
    const missed = wholeSecond(Date.now() - 2 * HOUR);
    const { scheduler, store, calls } = setup([{ name: 'nightly', cron: cronAt(missed), windowHours: 1, run: { mode: 'delta' } }]);
    scheduler.start();
    expect(calls).toHaveLength(0);
    expect(store.last('nightly')).toBeUndefined();
    const [view] = scheduler.view();
    expect(view).toEqual({
      name: 'nightly',
      cron: cronAt(missed),
      windowHours: 1,
      finished: false,
      nextStart: new Date(missed).setFullYear(new Date(missed).getFullYear() + 1),
    });
  });

  it('does not keep the process alive: its timers are unref’d', () => {
    const { scheduler } = setup([{ name: 'nightly', cron: '0 22 * * *', windowHours: 1, run: { mode: 'delta' } }]);
    const timeouts = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const count = timeouts();
    scheduler.start();
    // An unref'd timer is not an active resource (a ref'd one would be counted).
    expect(timeouts()).toBe(count);
    expect(scheduler.view()[0]!.nextStart).toBeGreaterThan(Date.now());
  });
});

describe('plexlift schedule', () => {
  const ADMIN = 'admin-secret-0123456789';
  const env = (url: string) => ({ env: { PLEXLIFT_URL: url, PLEXLIFT_TOKEN: ADMIN } });

  it('lists each entry with its cron, window, next start and last outcome, and the same as JSON with --json', async () => {
    // Starts two hours ahead with one-hour windows: no window is open whenever the test runs, so
    // starting the scheduler catches up on nothing.
    const hour = (new Date().getHours() + 2) % 24;
    const { scheduler, store, jobs } = setup(
      [
        { name: 'nightly', cron: `0 ${hour} * * *`, windowHours: 1, run: { mode: 'delta' } },
        { name: 'weekend', cron: `0 ${hour} * * SAT`, windowHours: 1, run: { mode: 'delta' } },
        { name: 'until-done', cron: '0 3 * * *', windowHours: 2, until: 'complete', run: { mode: 'delta' } },
      ],
      { complete: () => true },
    );
    scheduler.start();
    const firing = Date.UTC(2026, 5, 1, 20, 0);
    recordJob(jobs, { mode: 'delta' } as RunRequest, 'job-night-1');
    store.claim('nightly', firing);
    store.settle({ entry: 'nightly', at: firing, outcome: 'started', jobId: 'job-night-1', detail: 'deadline …' });
    store.claim('weekend', firing);
    store.settle({ entry: 'weekend', at: firing, outcome: 'skipped', detail: 'job job-night-1 is still running on this library; one job at a time' });
    const controller = await startController({
      stateDir: join(createTempDir(), 'state'),
      adminToken: ADMIN,
      host: '127.0.0.1',
      agentJob: () => Promise.reject(new Error('not used')),
      control: { abort: () => Promise.resolve(), schedule: () => scheduler.view() },
    });
    onTestFinished(() => controller.close());

    const json = await runCli(['schedule', '--json'], env(controller.server.url));
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(scheduler.view());

    const human = await runCli(['schedule'], env(controller.server.url));
    expect(human.status).toBe(0);
    const lines = human.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^entry +cron +window +next start +last outcome$/);
    const local = (ms: number) => {
      const at = new Date(ms);
      const two = (n: number) => String(n).padStart(2, '0');
      return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} ${two(at.getHours())}:${two(at.getMinutes())}`;
    };
    const nightly = scheduler.view()[0]!.nextStart!;
    expect(lines[1]).toMatch(
      new RegExp(`^nightly +0 ${hour} \\* \\* \\* +1 h +${local(nightly)} \\(in \\d+ (min|h)\\) +started job-night-1 \\(${local(firing)}\\)$`),
    );
    expect(lines[2]).toMatch(
      new RegExp(
        `^weekend +0 ${hour} \\* \\* SAT +1 h +.* \\(in \\d+ (min|h|days)\\) +skipped: job job-night-1 is still running on this library; one job at a time \\(.*\\)$`,
      ),
    );
    expect(lines[3]).toMatch(/^until-done +0 3 \* \* \* +2 h +none: complete \(until: complete\) +never fired$/);
  });

  it('says so when the config has no schedule', async () => {
    const { scheduler } = setup([]);
    const controller = await startController({
      stateDir: join(createTempDir(), 'state'),
      adminToken: ADMIN,
      host: '127.0.0.1',
      agentJob: () => Promise.reject(new Error('not used')),
      control: { abort: () => Promise.resolve(), schedule: () => scheduler.view() },
    });
    onTestFinished(() => controller.close());
    const result = await runCli(['schedule'], env(controller.server.url));
    expect(result).toMatchObject({ status: 0, stdout: 'No scheduled bursts (the config has no `schedule` entries).\n' });
  });
});
