import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { DATABASES_DIR } from '@plexlift/shared/plex-db';
import { parseJobSpec, type JobSpec } from '@plexlift/shared/protocol';
import { ESTIMATE_DEFAULTS, estimateJob } from '../../packages/controller/src/jobs/job-estimate.js';
import { JobStore } from '../../packages/controller/src/store/job-store.js';
import { openStoreDatabase } from '../../packages/controller/src/store/schema.js';
import { generateLibrary } from '../utils/library-generator.js';
import { readStatsOf } from '../utils/sqlite-files.js';
import { createTempDir } from '../utils/temp-dir.js';

const START = Date.UTC(2026, 5, 1, 22, 0);

/** A home Plex data dir with a generated library (a quarter of its tracks Sonic-analysed) and a job store with a clock. */
function setup() {
  const home = join(createTempDir('estimate-home-'), 'Plex Media Server');
  generateLibrary({ dir: join(home, DATABASES_DIR), size: 'small', sonicRatio: 0.25, seed: 11 });
  const db = openStoreDatabase(join(createTempDir(), 'plexlift.db'));
  onTestFinished(() => void db.close());
  let clock = START;
  const jobs = new JobStore(db, () => clock);
  const stats = readStatsOf(join(home, DATABASES_DIR, 'com.plexapp.plugins.library.db'));
  return { home, jobs, stats, at: (ms: number) => (clock = ms) };
}

const specOf = (id: string, sections: string[] = []): JobSpec =>
  parseJobSpec({ jobId: id, mode: 'delta', sections, plex: { version: '1.43.2.10687-563d026ea' }, media: { mountPath: '/Media', remote: 's3:media' } });

type Setup = ReturnType<typeof setup>;

const estimate = (s: Setup, spec: JobSpec) => estimateJob({ spec, noInstall: false, library: s.home, jobs: s.jobs, hourlyPrice: 0, isCloud: false });

/** A finished delta run of the library whose Sonic took `sonicSeconds` with `leftThen` tracks to analyse. */
function recordPastRun(s: Setup, id: string, sonicSeconds: number, leftThen: number): void {
  const music = s.stats.sonic[0]!;
  s.at(START);
  let job = s.jobs.create({ id, library: s.home, provider: 'local', spec: specOf(id), options: { keep: false, noInstall: false } });
  job = s.jobs.transition(job, 'queued', 'provisioning')!;
  job = s.jobs.transition(job, 'provisioning', 'running', {
    report: {
      before: s.stats.library,
      sonicSections: [{ id: music.sectionId, title: 'Music', before: { analyzed: music.total - leftThen, total: music.total } }],
    },
  })!;
  s.at(START + 60_000);
  s.jobs.appendEvent(id, `${id}:1`, { type: 'phase:start', phase: 'sonic' });
  s.at(START + 60_000 + sonicSeconds * 1000);
  s.jobs.appendEvent(id, `${id}:2`, { type: 'phase:complete', phase: 'sonic', summary: {} });
  job = s.jobs.transition(job, 'running', 'verified')!;
  job = s.jobs.transition(job, 'verified', 'installing')!;
  s.jobs.transition(job, 'installing', 'done', { report: { ...job.report!, hours: 1 } });
}

describe('estimateJob', () => {
  it('counts only the sections asked for (--section by name or id): Plex work and Sonic', () => {
    const s = setup();
    const parts = (title: string) => s.stats.library.sections.find((x) => x.title === title)!.parts;
    const all = s.stats.library.sections.reduce((n, x) => n + x.parts, 0);
    const music = s.stats.sonic[0]!;
    const whole = estimate(s, specOf('job-all'));
    const movies = estimate(s, specOf('job-movies', ['Movies']));
    const musicById = estimate(s, specOf('job-music', [String(music.sectionId)]));

    const rescan = (files: number) => Math.round((files / ESTIMATE_DEFAULTS.itemsPerHour.rescan) * 3600);
    expect(whole.phases.scan).toBe(rescan(all));
    expect(movies.phases.scan).toBe(rescan(parts('Movies')));
    expect(movies.phases.scan).toBeLessThan(whole.phases.scan!);
    // Sonic is the music sections' tracks left: none in a Movies-only job.
    const sonicLeft = Math.round(((music.total - music.analyzed) / ESTIMATE_DEFAULTS.sonicTracksPerHour) * 3600);
    expect(whole.phases.sonic).toBe(sonicLeft);
    expect(musicById.phases.sonic).toBe(sonicLeft);
    expect(movies.phases.sonic).toBe(0);
  });

  it("scales a past run's Sonic by the tracks left then and now, and falls back to the documented rate after a run that had none left", () => {
    const once = setup();
    const music = once.stats.sonic[0]!;
    const left = music.total - music.analyzed;
    // Twice the tracks left now than then: twice the time.
    recordPastRun(once, 'job-past', 1_000, Math.round(left / 2));
    const learned = estimate(once, specOf('job-next'));
    expect(learned.basis).toMatch(/1 past delta run of this library/);
    expect(learned.phases.sonic).toBeCloseTo(1_000 * (left / Math.round(left / 2)), -1);

    // A run that found nothing left says nothing of the pace of tracks.
    const idle = setup();
    recordPastRun(idle, 'job-idle', 5, 0);
    expect(estimate(idle, specOf('job-after-idle')).phases.sonic).toBe(Math.round((left / ESTIMATE_DEFAULTS.sonicTracksPerHour) * 3600));
  });
});
