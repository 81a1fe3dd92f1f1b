import { join } from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { parseConfig, type JobState } from '@plexlift/shared';
import { parseJobSpec, type PhaseName } from '@plexlift/shared/protocol';
import { openControllerCore } from '../../packages/controller/src/controller.js';
import { watchBudget } from '../../packages/controller/src/jobs/budget-watch.js';
import { budgetOf, checkRunBudget } from '../../packages/controller/src/jobs/job-budget.js';
import { JobRunner } from '../../packages/controller/src/jobs/job-runner.js';
import { buildJobReport } from '../../packages/controller/src/jobs/job-report.js';
import { estimateLandingReserve } from '../../packages/controller/src/jobs/landing-reserve.js';
import { formatReport } from '../../packages/controller/src/cli/commands/job-report-view.js';
import { createLogger } from '../../packages/controller/src/logger.js';
import type { Provider } from '../../packages/controller/src/providers/provider.js';
import { createTempDir } from '../utils/temp-dir.js';

const cloud: Provider = {
  name: 'scaleway',
  hourlyPrice: 0.5,
  caps: { maxHours: 12, maxCost: 10 },
  provision: () => Promise.reject(new Error('not here')),
  status: () => Promise.resolve({ exists: true, detail: 'running' }),
  teardown: () => Promise.resolve(),
  list: () => Promise.resolve([]),
  describe: () => 'a test machine',
};

/** The same machine without caps (the local providers): only a run's budget limits it. */
const uncapped: Provider = Object.fromEntries(Object.entries(cloud).filter(([key]) => key !== 'caps')) as unknown as Provider;

function setup() {
  const dir = createTempDir();
  const core = openControllerCore({ stateDir: join(dir, 'state') });
  onTestFinished(() => void core.db.close());
  const config = parseConfig({ server: { stateDir: join(dir, 'state'), landingMarginSeconds: 30 } }, 'test');
  const runner = new JobRunner({
    config,
    ...core,
    providers: { scaleway: cloud },
    controllerUrl: () => 'https://127.0.0.1:1',
    logger: createLogger(() => undefined),
  });
  let n = 0;
  /** A job as the runner would have left it in `state` (and `phase`), without driving it. */
  const jobIn = (state: JobState, phase?: PhaseName, options: Record<string, unknown> = {}) => {
    const id = `job-${(n += 1)}`;
    const spec = parseJobSpec({ jobId: id, mode: 'delta', plex: { version: '1.43.2.10687-563d026ea' }, media: { mountPath: '/Media', remote: 's3:media' } });
    let job = core.jobs.create({ id, library: `/library-${n}`, provider: 'scaleway', spec, options: { keep: false, noInstall: false, ...options } });
    core.jobs.setResource(id, { hourlyPrice: 0.5 });
    const path: JobState[] = ['queued', 'provisioning', 'running', 'verified', 'installing', 'done'];
    for (let i = 1; i <= path.indexOf(state === 'failed' ? 'provisioning' : state); i++) job = core.jobs.transition(job, path[i - 1]!, path[i]!)!;
    if (state === 'failed') core.jobs.transition(job, 'provisioning', 'failed', { error: { code: 'CLOUD_ERROR', message: 'boom' } });
    if (phase) core.jobs.appendEvent(id, `agent:${id}:1`, { type: 'phase:start', phase });
    return core.jobs.get(id)!;
  };
  return { core, runner, jobIn };
}

describe('plexlift land', () => {
  it('orders a landing of a job in a long phase: the agent gets the command, the report records it with its reserve', () => {
    const { core, runner, jobIn } = setup();
    const job = jobIn('running', 'sonic');
    const outcome = runner.land(job.id, 'asked by the user');
    expect(outcome).toMatchObject({ ordered: true, state: 'running' });
    expect(core.jobs.commands(job.id, 0).map((c) => c.command)).toEqual([{ type: 'land', jobId: job.id, reason: 'asked by the user' }]);
    const landed = core.jobs.get(job.id)!.report!.landed!;
    expect(landed).toMatchObject({ reason: 'asked by the user', unfinished: [] });
    // Nothing measured yet: the defaults of a cloud (30 + DB 0 + 0 + 90) × 1.25 + the 30 s margin.
    expect(landed.reserveSeconds).toBe(Math.ceil((30 + 90) * 1.25 + 30));
    // A second land changes nothing.
    expect(runner.land(job.id, 'again')).toMatchObject({ ordered: false, detail: expect.stringMatching(/^already landing since/) });
    expect(core.jobs.commands(job.id, 0)).toHaveLength(1);
  });

  it.each([
    ['uploading', 'running', 'upload'],
    ['exporting', 'running', 'export'],
    ['deleting its machine', 'running', 'teardown'],
    ['verified at home', 'verified', undefined],
  ] as const)('a job already %s changes nothing', (_what, state, phase) => {
    const { core, runner, jobIn } = setup();
    const job = jobIn(state, phase);
    expect(runner.land(job.id, 'asked')).toMatchObject({ ordered: false, detail: expect.stringMatching(/already bringing its work home/) });
    expect(core.jobs.commands(job.id, 0)).toEqual([]);
    expect(core.jobs.get(job.id)!.report?.landed).toBeUndefined();
  });

  it('a job that ended, or none, is a usage error', () => {
    const { runner, jobIn } = setup();
    expect(() => runner.land('job-nope', 'x')).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT', message: 'no job job-nope' }));
    const failed = jobIn('failed');
    expect(() => runner.land(failed.id, 'x')).toThrow(
      expect.objectContaining({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/is failed: there is nothing to land/) }),
    );
  });
});

describe('a job budget', () => {
  it("a run's budget sits within the provider's caps, said with the flag's name", () => {
    expect(() => checkRunBudget({ maxHours: 13 }, cloud)).toThrow(/--max-hours: 13 is above providers.scaleway.maxHours \(12\)/);
    expect(() => checkRunBudget({ maxCost: 11 }, cloud)).toThrow(/--max-cost: 11 is above providers.scaleway.maxCost \(10\)/);
    expect(budgetOf({ maxHours: 6 }, cloud)).toEqual({ maxHours: 6, maxCost: 10 });
    expect(budgetOf({ maxCost: 3, deadline: 1 }, uncapped)).toEqual({ maxCost: 3, deadline: 1 });
  });

  it('lands once the time left reaches the reserve, then stops at the cap; a job on its way home is not landed', async () => {
    const { core, jobIn } = setup();
    // 3.6 s of budget checked every 250 ms, a reserve of 2 s: the landing comes at about 1.35 s
    // (one check ahead), the hard stop at 3.6 s.
    const job = jobIn('running', 'sonic', { maxHours: 0.001 });
    const lands: string[] = [];
    const stops: string[] = [];
    const landedAt: number[] = [];
    const stop = watchBudget({
      jobId: job.id,
      provider: uncapped,
      jobs: core.jobs,
      budget: budgetOf(core.jobs.get(job.id)!.options, uncapped),
      reserve: () => ({ seconds: 2, parts: { plexStop: 1, export: 0, upload: 0, teardown: 0, margin: 1 }, basis: 'a test' }),
      land: (reason) => (lands.push(reason), landedAt.push(Date.now())),
      stop: (reason) => stops.push(reason),
    });
    onTestFinished(stop);
    await vi.waitFor(() => expect(lands).toHaveLength(1), { timeout: 5_000, interval: 50 });
    expect((landedAt[0]! - job.createdAt) / 1000).toBeGreaterThanOrEqual(1.3);
    expect((landedAt[0]! - job.createdAt) / 1000).toBeLessThan(2.6);
    expect(lands[0]).toMatch(/^its lifetime cap of 0\.001 h is \d s away: the time to bring the work home \(about 2 s\)$/);
    expect(stops).toEqual([]);
    await vi.waitFor(() => expect(stops).toHaveLength(1), { timeout: 5_000, interval: 50 });
    expect(stops[0]).toMatch(/^the job reached its lifetime cap of 0\.001 h; its machine is deleted/);
    expect(lands).toHaveLength(1);

    const uploading = jobIn('running', 'upload', { maxHours: 0.001 });
    const late: string[] = [];
    const stopLate = watchBudget({
      jobId: uploading.id,
      provider: cloud,
      jobs: core.jobs,
      budget: budgetOf(uploading.options, cloud),
      reserve: () => ({ seconds: 3.6, parts: { plexStop: 1, export: 0, upload: 0, teardown: 0, margin: 2.6 }, basis: 'a test' }),
      land: (reason) => late.push(reason),
      stop: () => undefined,
    });
    onTestFinished(stopLate);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(late).toEqual([]);
  });

  it('a reserve shorter than the time between checks still lands before the cap', () => {
    vi.useFakeTimers();
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const { core, jobIn } = setup();
    // 36 s of budget, checked every 1.8 s; the landing needs 0.5 s: waiting for "0.5 s left" would
    // find the cap first.
    const job = jobIn('running', 'sonic', { maxHours: 0.01 });
    const events: { what: string; at: number }[] = [];
    const stop = watchBudget({
      jobId: job.id,
      provider: uncapped,
      jobs: core.jobs,
      budget: budgetOf(job.options, uncapped),
      reserve: () => ({ seconds: 0.5, parts: { plexStop: 0, export: 0, upload: 0, teardown: 0, margin: 0.5 }, basis: 'a test' }),
      land: () => events.push({ what: 'land', at: Date.now() - job.createdAt }),
      stop: () => events.push({ what: 'stop', at: Date.now() - job.createdAt }),
    });
    onTestFinished(stop);
    vi.advanceTimersByTime(40_000);
    expect(events.map((e) => e.what)).toEqual(['land', 'stop']);
    expect(events[0]!.at).toBeGreaterThanOrEqual(36_000 - 500 - 1_800);
    expect(events[0]!.at).toBeLessThan(36_000 - 500);
  });

  it("the reserve learns from this job's restore and from the library's past runs", () => {
    const { core, jobIn } = setup();
    const job = jobIn('running', 'sonic');
    const base = { job, jobs: core.jobs, transfers: core.transferStore, isCloud: true, marginSeconds: 0 };
    const before = estimateLandingReserve(base);
    expect(before.basis).toMatch(/no measured link rate yet/);
    // This job restored 100 MB in 10 s: the upload of about as much is estimated at 10 s.
    const restore = core.transferStore.create({ id: `${job.id}-restore`, jobId: job.id, direction: 'restore', path: '/x' });
    core.db.prepare('UPDATE transfers SET bytes = ? WHERE id = ?').run(100_000_000, restore.id);
    core.jobs.appendEvent(job.id, 'agent:restore:1', { type: 'phase:start', phase: 'restore' });
    const started = core.jobs.phases(job.id).find((p) => p.phase === 'restore')!.startedAt!;
    core.db.prepare(`UPDATE phases SET started_at = ? WHERE job_id = ? AND phase = 'restore'`).run(started - 10_000, job.id);
    core.jobs.appendEvent(job.id, 'agent:restore:2', { type: 'phase:complete', phase: 'restore', summary: {} });
    const measured = estimateLandingReserve({ ...base, job: core.jobs.get(job.id)! });
    expect(measured.basis).toMatch(/this job’s restore rate/);
    expect(measured.parts.upload).toBeGreaterThanOrEqual(9.5);
    expect(measured.parts.upload).toBeLessThanOrEqual(10.5);
    expect(measured.parts.export).toBe(5); // 100 MB at the default 20 MB/s
  });

  it('a teardown that past runs measured at 0 s (a local machine, whole seconds) is still given its floor', () => {
    const { core, jobIn } = setup();
    const past = jobIn('done');
    core.jobs.setReport(past.id, {
      phases: { teardown: { state: 'done', seconds: 0 }, 'plex-stop': { state: 'done', seconds: 0 } },
      bytesMoved: {},
      hours: 0,
      cost: 0,
    });
    core.db.prepare('UPDATE jobs SET library = ? WHERE id = ?').run('/the-library', past.id);
    const job = jobIn('running', 'sonic');
    core.db.prepare('UPDATE jobs SET library = ? WHERE id = ?').run('/the-library', job.id);
    const reserve = estimateLandingReserve({ job: core.jobs.get(job.id)!, jobs: core.jobs, transfers: core.transferStore, isCloud: false, marginSeconds: 0 });
    expect(reserve.basis).toMatch(/1 past run of this library/);
    expect(reserve.parts.teardown).toBe(5);
  });
});

describe('the report of a landed job', () => {
  it('says what the landing took to a tenth of a second: a local landing of half a second reads 0.5, not 0', () => {
    const { core, jobIn } = setup();
    const job = jobIn('running', 'sonic');
    const requestedAt = Date.now();
    core.jobs.setReport(job.id, {
      landed: { reason: 'asked by the user', requestedAt, reserveSeconds: 13, unfinished: [] },
      bytesMoved: {},
      hours: 0,
      cost: 0,
    });
    core.jobs.appendEvent(job.id, 'controller:teardown:1', { type: 'phase:start', phase: 'teardown' });
    core.jobs.appendEvent(job.id, 'controller:teardown:2', { type: 'phase:complete', phase: 'teardown', summary: { kept: false } });
    // The machine deleted 460 ms after the landing's order (whole seconds would say 0).
    core.db.prepare(`UPDATE phases SET finished_at = ? WHERE job_id = ? AND phase = 'teardown'`).run(requestedAt + 460, job.id);
    const report = buildJobReport({ jobId: job.id, jobs: core.jobs, transfers: core.transferStore, hourlyPrice: 0.5 });
    expect(report.landed).toMatchObject({ reserveSeconds: 13, actualSeconds: 0.5 });
    expect(formatReport(job.id, report)).toMatch(/^landing: 13 s reserved, 0\.5 s taken$/m);
  });
});
