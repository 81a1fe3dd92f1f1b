import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseConfig, type JobReport } from '@plexlift/shared';
import { DATABASES_DIR } from '@plexlift/shared/plex-db';
import { parseJobSpec } from '@plexlift/shared/protocol';
import { startController } from '../../packages/controller/src/controller.js';
import { readLibraryProgress } from '../../packages/controller/src/jobs/library-progress.js';
import { JobStore, type JobOptions, type JobRecord } from '../../packages/controller/src/store/job-store.js';
import { openStoreDatabase } from '../../packages/controller/src/store/schema.js';
import { generateLibrary } from '../utils/library-generator.js';
import { runCli } from '../utils/run-cli.js';
import { createTempDir } from '../utils/temp-dir.js';

const HOUR = 3_600_000;
const START = Date.UTC(2026, 5, 1, 22, 0);

/** A home Plex data dir with a generated library (a quarter of its tracks Sonic-analysed) and a job store. */
function setup(options: { sonicRatio?: number } = {}) {
  const home = join(createTempDir('progress-home-'), 'Plex Media Server');
  const library = generateLibrary({ dir: join(home, DATABASES_DIR), size: 'small', sonicRatio: options.sonicRatio ?? 0.25, deletedRatio: 0.05, seed: 7 });
  const config = parseConfig({ home: { plexDataDir: home, control: { type: 'systemd', unit: 'plexmediaserver.service' } } }, 'test');
  const db = openStoreDatabase(join(createTempDir(), 'plexlift.db'));
  onTestFinished(() => void db.close());
  let clock = START;
  const jobs = new JobStore(db, () => clock);
  const at = (ms: number) => (clock = ms);
  return { home, library, config, jobs, at };
}

/** Sonic of the one music section as the report keeps it: before at the job's start, after at its install. */
const sonicSections = (before: number, after?: number): JobReport['sonicSections'] => [
  { id: 3, title: 'Music', before: { analyzed: before, total: 2640 }, ...(after === undefined ? {} : { after: { analyzed: after, total: 2640 } }) },
];

/**
 * Records a run of the library as the runner would: created at `startedAt`, moved to its final
 * state (`done`, `failed`) or left `running`, with its report and the price its machine had.
 */
function recordRun(
  jobs: JobStore,
  at: (ms: number) => void,
  run: {
    id: string;
    library: string;
    startedAt: number;
    end: 'done' | 'failed' | 'running';
    report?: JobReport;
    hourlyPrice?: number;
    options?: Partial<JobOptions>;
    skipSonic?: boolean;
  },
): JobRecord {
  at(run.startedAt);
  const spec = parseJobSpec({
    jobId: run.id,
    mode: 'delta',
    skipSonic: run.skipSonic ?? false,
    plex: { version: '1.43.2.10687-563d026ea' },
    media: { mountPath: '/Media', remote: 's3:media' },
  });
  let job = jobs.create({ id: run.id, library: run.library, provider: 'scaleway', spec, options: { keep: false, noInstall: false, ...run.options } });
  if (run.hourlyPrice !== undefined) jobs.setResource(run.id, { serverId: `srv-${run.id}`, hourlyPrice: run.hourlyPrice });
  job = jobs.transition(job, 'queued', 'provisioning')!;
  job = jobs.transition(job, 'provisioning', 'running', run.report && run.end === 'running' ? { report: run.report } : {})!;
  at(run.startedAt + (run.report?.hours ?? 1) * HOUR);
  if (run.end === 'failed')
    job = jobs.transition(job, 'running', 'failed', { error: { code: 'PHASE_TIMEOUT', message: 'stalled' }, ...(run.report ? { report: run.report } : {}) })!;
  if (run.end === 'done') {
    job = jobs.transition(job, 'running', 'verified')!;
    job = jobs.transition(job, 'verified', 'installing')!;
    job = jobs.transition(job, 'installing', 'done', run.report ? { report: run.report } : {})!;
  }
  return job;
}

const landed = { reason: 'its budget ends', requestedAt: START, unfinished: ['sonic' as const] };

describe('readLibraryProgress', () => {
  it('counts Sonic and media analysis per section from the home DB, leaving out deleted items and online extras', () => {
    const { home, library, config, jobs } = setup();
    const db = new Database(join(home, DATABASES_DIR, 'com.plexapp.plugins.library.db'));
    const ids = new Map((db.prepare('SELECT name, id FROM library_sections').all() as { name: string; id: number }[]).map((s) => [s.name, s.id]));
    const sectionId = (title: string) => ids.get(title)!;
    const unanalyse = (where: string, ...params: unknown[]) =>
      db
        .prepare(
          `UPDATE media_items SET media_analysis_version = 0 WHERE id IN (
             SELECT mi.id FROM media_items mi JOIN media_parts mp ON mp.media_item_id = mi.id WHERE ${where} GROUP BY mi.id LIMIT 10)`,
        )
        .run(...params).changes;
    // Ten films and three photos not analysed; online extras (no file) and deleted films neither, but they are not counted.
    expect(unanalyse(`mi.library_section_id = ? AND mi.deleted_at IS NULL AND mp.file <> ''`, sectionId('Movies'))).toBe(10);
    db.prepare(
      `UPDATE media_items SET media_analysis_version = 0 WHERE id IN (
         SELECT mi.id FROM media_items mi JOIN media_parts mp ON mp.media_item_id = mi.id
          WHERE mi.library_section_id = ? AND mi.deleted_at IS NULL AND mp.file <> '' LIMIT 3)`,
    ).run(sectionId('Photos'));
    expect(unanalyse(`mi.library_section_id = ? AND mp.file = ''`, sectionId('Movies'))).toBeGreaterThan(0);
    expect(unanalyse(`mi.library_section_id = ? AND mi.deleted_at IS NOT NULL`, sectionId('Movies'))).toBeGreaterThan(0);
    db.close();

    const progress = readLibraryProgress({ config, jobs });
    const counts = (title: string) => library.expected.sections.find((s) => s.title === title)!.counts;
    const sonic = library.sonic[0]!;
    expect(progress.library).toBe(home);
    expect(progress.sections).toEqual([
      {
        id: sectionId('Movies'),
        title: 'Movies',
        type: 'movie',
        analyses: [{ name: 'media analysis', done: counts('Movies').movie - 10, total: counts('Movies').movie }],
      },
      {
        id: sectionId('TV Shows'),
        title: 'TV Shows',
        type: 'show',
        analyses: [{ name: 'media analysis', done: counts('TV Shows').episode, total: counts('TV Shows').episode }],
      },
      {
        id: sonic.sectionId,
        title: 'Music',
        type: 'artist',
        sonic: { analyzed: sonic.analyzed, total: sonic.total },
        analyses: [{ name: 'media analysis', done: counts('Music').track, total: counts('Music').track }],
      },
      {
        id: sectionId('Photos'),
        title: 'Photos',
        type: 'photo',
        analyses: [{ name: 'media analysis', done: counts('Photos').photo - 3, total: counts('Photos').photo }],
      },
    ]);
    expect(sonic.analyzed).toBeGreaterThan(0);
    expect(sonic.analyzed).toBeLessThan(sonic.total);
    expect(progress.remaining).toEqual({ tracks: sonic.total - sonic.analyzed, analyses: 13 });
    expect(progress.runs).toEqual([]);
    // No run has measured a rate yet: no estimate.
    expect(progress.estimate).toBeUndefined();
    expect(progress.complete).toBe(false);
  });

  it('lists the runs of this library newest first with their outcome, and estimates the rest at the rate of the runs that did Sonic', () => {
    const { home, library, config, jobs, at } = setup();
    const window = (startedAt: number) => ({ schedule: 'nightly', deadline: startedAt + 6 * HOUR });
    const day = (n: number) => START + n * 24 * HOUR;
    recordRun(jobs, at, {
      id: 'job-night-1',
      library: home,
      startedAt: day(0),
      end: 'done',
      hourlyPrice: 0.35,
      options: window(day(0)),
      report: { sonicSections: sonicSections(100, 400), landed, hours: 5.5, cost: 1.93 },
    });
    recordRun(jobs, at, {
      id: 'job-night-2',
      library: home,
      startedAt: day(1),
      end: 'done',
      hourlyPrice: 0.35,
      options: window(day(1)),
      report: { sonicSections: sonicSections(400, 1000), landed, hours: 5.9, cost: 2.07 },
    });
    // Another library's run is not this one's history.
    recordRun(jobs, at, { id: 'job-other', library: '/srv/other-plex', startedAt: day(1) + HOUR, end: 'done', report: { hours: 1, cost: 9 } });
    // A run without Sonic measures no Sonic rate; a failed one installed nothing.
    recordRun(jobs, at, {
      id: 'job-quick',
      library: home,
      startedAt: day(2),
      end: 'done',
      skipSonic: true,
      report: { sonicSections: sonicSections(1000, 1000), hours: 1, cost: 0.35 },
    });
    recordRun(jobs, at, {
      id: 'job-broke',
      library: home,
      startedAt: day(3),
      end: 'failed',
      report: { sonicSections: sonicSections(1000), hours: 0.5, cost: 0.18 },
    });
    recordRun(jobs, at, { id: 'job-now', library: home, startedAt: day(4), end: 'running', hourlyPrice: 0.42, report: { sonicSections: sonicSections(1000) } });

    const progress = readLibraryProgress({ config, jobs, now: day(4) + 2 * HOUR });
    expect(progress.runs).toEqual([
      { jobId: 'job-now', startedAt: day(4), state: 'running', outcome: 'under way', hours: 2, cost: 0.84 },
      { jobId: 'job-broke', startedAt: day(3), state: 'failed', outcome: 'failed', hours: 0.5, cost: 0.18 },
      { jobId: 'job-quick', startedAt: day(2), state: 'done', outcome: 'complete', hours: 1, cost: 0.35, tracksDone: 0 },
      { jobId: 'job-night-2', startedAt: day(1), state: 'done', outcome: 'landed', hours: 5.9, cost: 2.07, tracksDone: 600, schedule: 'nightly' },
      { jobId: 'job-night-1', startedAt: day(0), state: 'done', outcome: 'landed', hours: 5.5, cost: 1.93, tracksDone: 300, schedule: 'nightly' },
    ]);
    // 900 tracks in 11.4 h; runs as long as their 6 h window; the newest price (0.42 €/h).
    const left = library.sonic[0]!.total - library.sonic[0]!.analyzed;
    const hours = (left * 11.4) / 900;
    expect(progress.remaining.tracks).toBe(left);
    expect(progress.estimate).toEqual({
      hours: Math.round(hours * 1000) / 1000,
      runs: Math.ceil(hours / 6),
      euros: Math.round(hours * 0.42 * 100) / 100,
      basis: 'the last 2 runs with Sonic: 79 tracks/h; runs of 6 h, their median schedule window; 0.42 €/h',
    });
    expect(progress.estimate!.runs).toBeGreaterThan(1);
    expect(progress.complete).toBe(false);
  });

  it('takes the rate of the five newest runs that measured one, and their median length when no schedule started them', () => {
    const { home, library, config, jobs, at } = setup();
    // An old, fast run (5,000 tracks in an hour) is outside the five newest and does not count.
    const runs = [
      { tracks: 5000, hours: 1 },
      { tracks: 100, hours: 2 },
      { tracks: 200, hours: 4 },
      { tracks: 100, hours: 3 },
      { tracks: 300, hours: 8 },
      { tracks: 100, hours: 3 },
    ];
    let analysed = 0;
    for (const [i, run] of runs.entries()) {
      recordRun(jobs, at, {
        id: `job-run-${i}`,
        library: home,
        startedAt: START + i * 24 * HOUR,
        end: 'done',
        hourlyPrice: 0.5,
        report: { sonicSections: sonicSections(analysed, analysed + run.tracks), landed, hours: run.hours, cost: run.hours * 0.5 },
      });
      analysed += run.tracks;
    }
    const progress = readLibraryProgress({ config, jobs });
    const left = library.sonic[0]!.total - library.sonic[0]!.analyzed;
    // 800 tracks in 20 h: 40 tracks/h; the median of 2, 4, 3, 8, 3 h is 3 h.
    expect(progress.estimate).toEqual({
      hours: Math.round((left / 40) * 1000) / 1000,
      runs: Math.ceil(left / 40 / 3),
      euros: Math.round((left / 40) * 0.5 * 100) / 100,
      basis: 'the last 5 runs with Sonic: 40 tracks/h; runs of 3 h, their median length; 0.5 €/h',
    });
    expect(progress.runs.map((r) => r.outcome)).toEqual(['landed', 'landed', 'landed', 'landed', 'landed', 'landed']);
  });

  it('is complete when no Sonic track and no media analysis is left, or when the runs skip what is left', () => {
    const done = setup({ sonicRatio: 1 });
    recordRun(done.jobs, done.at, {
      id: 'job-last',
      library: done.home,
      startedAt: START,
      end: 'done',
      report: { sonicSections: sonicSections(2000, 2640), hours: 3, cost: 1 },
    });
    const complete = readLibraryProgress({ config: done.config, jobs: done.jobs });
    expect(complete).toMatchObject({
      remaining: { tracks: 0, analyses: 0 },
      complete: true,
      runs: [{ jobId: 'job-last', outcome: 'complete', tracksDone: 640 }],
    });
    expect(complete.estimate).toBeUndefined();

    // Tracks are left, but the newest run skipped Sonic: nothing left that a run would do.
    const skipped = setup({ sonicRatio: 0.5 });
    recordRun(skipped.jobs, skipped.at, {
      id: 'job-sonic',
      library: skipped.home,
      startedAt: START,
      end: 'done',
      report: { sonicSections: sonicSections(0, 300), landed, hours: 3, cost: 1 },
    });
    recordRun(skipped.jobs, skipped.at, {
      id: 'job-no-sonic',
      library: skipped.home,
      startedAt: START + 24 * HOUR,
      end: 'done',
      skipSonic: true,
      report: { hours: 1, cost: 0.3 },
    });
    const left = readLibraryProgress({ config: skipped.config, jobs: skipped.jobs });
    expect(left.remaining.tracks).toBeGreaterThan(0);
    expect(left.complete).toBe(true);
    expect(left.estimate).toBeUndefined();
  });

  it('says which config field is missing, and which file it could not read', () => {
    const { jobs } = setup();
    expect(() => readLibraryProgress({ config: parseConfig({}, 'test'), jobs })).toThrow(/home: missing/);
    const nowhere = parseConfig(
      { home: { plexDataDir: '/nonexistent/Plex Media Server', control: { type: 'systemd', unit: 'plexmediaserver.service' } } },
      'test',
    );
    expect(() => readLibraryProgress({ config: nowhere, jobs })).toThrow(/home\.plexDataDir.*nonexistent/);
  });
});

describe('plexlift progress', () => {
  const ADMIN = 'admin-secret-0123456789';
  const env = (url: string) => ({ env: { PLEXLIFT_URL: url, PLEXLIFT_TOKEN: ADMIN } });

  it('prints the sections, the runs and the estimate, and the same as JSON with --json', async () => {
    const { home, library, config, jobs, at } = setup();
    recordRun(jobs, at, {
      id: 'job-night-1',
      library: home,
      startedAt: START,
      end: 'done',
      hourlyPrice: 0.35,
      options: { schedule: 'nightly', deadline: START + 6 * HOUR },
      report: { sonicSections: sonicSections(660, 1260), landed, hours: 5.5, cost: 1.93 },
    });
    const store = jobs;
    const controller = await startController({
      stateDir: join(createTempDir(), 'state'),
      adminToken: ADMIN,
      host: '127.0.0.1',
      agentJob: () => Promise.reject(new Error('not used')),
      control: { abort: () => Promise.resolve(), progress: () => readLibraryProgress({ config, jobs: store }) },
    });
    onTestFinished(() => controller.close());

    const json = await runCli(['progress', '--json'], env(controller.server.url));
    expect(json.status).toBe(0);
    const expected = readLibraryProgress({ config, jobs });
    expect(JSON.parse(json.stdout)).toEqual(expected);
    expect(expected.estimate).toBeDefined();

    const human = await runCli(['progress'], env(controller.server.url));
    expect(human.status).toBe(0);
    const sonic = library.sonic[0]!;
    const lines = human.stdout.split('\n');
    expect(lines[0]).toBe(`library ${home}`);
    expect(lines[1]).toMatch(/^section +type +Sonic +media analysis$/);
    expect(human.stdout).toMatch(
      new RegExp(`\\nMusic +artist +${sonic.analyzed.toLocaleString('en-US')} of ${sonic.total.toLocaleString('en-US')} \\(\\d+\\.\\d %\\) +`),
    );
    expect(human.stdout).toMatch(
      /\nrun +started +hours +cost +tracks +outcome\njob-night-1 +\d{4}-\d\d-\d\d \d\d:\d\d +5\.50 +1\.93 € +600 +landed \(schedule nightly\)\n/,
    );
    expect(human.stdout).toContain(`left: ${(sonic.total - sonic.analyzed).toLocaleString('en-US')} Sonic tracks, 0 items of media analysis`);
    const { estimate } = expected;
    expect(human.stdout).toContain(`estimate: ${estimate!.runs} more runs, ${estimate!.hours} h, ${estimate!.euros.toFixed(2)} € (${estimate!.basis})`);
  });

  it('says so when the daemon does not track progress', async () => {
    const controller = await startController({
      stateDir: join(createTempDir(), 'state'),
      adminToken: ADMIN,
      host: '127.0.0.1',
      agentJob: () => Promise.reject(new Error('not used')),
    });
    onTestFinished(() => controller.close());
    const result = await runCli(['progress'], env(controller.server.url));
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/does not track progress/);
  });
});
