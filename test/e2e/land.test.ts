import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import type { JobReport } from '@plexlift/shared';
import type { AgentEvent } from '@plexlift/shared/protocol';
import { runCli } from '../utils/run-cli.js';
import { readStatsOf } from '../utils/sqlite-files.js';
import { prepare } from './plexlift-fixture.js';

/** A job's events so far, read from the daemon's store (no CLI start-up between two looks). */
function storedEvents(stateDir: string, jobId: string): AgentEvent[] {
  try {
    const db = new Database(join(stateDir, 'plexlift.db'), { readonly: true, timeout: 1_000 });
    try {
      const rows = db.prepare(`SELECT payload_json FROM events WHERE job_id = ? ORDER BY id`).pluck().all(jobId) as string[];
      return rows.map((row) => JSON.parse(row) as AgentEvent);
    } finally {
      db.close();
    }
  } catch {
    return [];
  }
}

/** Waits until the job's store holds a progress line of `phase` that `message` matches. */
async function waitForProgress(stateDir: string, jobId: string, phase: string, message: RegExp): Promise<void> {
  await vi.waitFor(
    () =>
      expect(storedEvents(stateDir, jobId)).toContainEqual(expect.objectContaining({ type: 'phase:progress', phase, message: expect.stringMatching(message) })),
    { timeout: 120_000, interval: 50 },
  );
}

/** The home library's media analysis (PMS 1.43 writes version 6) and Sonic, as counts. */
function homeAnalyses(mainDb: string): { media: { analysed: number; total: number }; sonic: { analysed: number; total: number } } {
  const db = new Database(mainDb, { readonly: true });
  try {
    const media = db
      .prepare(`SELECT count(*) AS total, coalesce(sum(media_analysis_version >= 6), 0) AS analysed FROM media_items WHERE deleted_at IS NULL`)
      .get() as { analysed: number; total: number };
    const sonic = db
      .prepare(
        `SELECT count(*) AS total, coalesce(sum(instr(extra_data, '"ms:musicAnalysisVersion"') > 0), 0) AS analysed
           FROM metadata_items WHERE metadata_type = 10 AND deleted_at IS NULL`,
      )
      .get() as { analysed: number; total: number };
    return { media, sonic };
  } finally {
    db.close();
  }
}

interface JobView {
  id: string;
  state: string;
  error?: { code: string; message: string };
  report?: JobReport;
}

describe('plexlift land of a live job', () => {
  it(
    'in analyze, then (the next run) in Sonic: each job ends done and landed as asked, home holds the work done so far, and the next run goes on from it',
    { timeout: 400_000 },
    async () => {
      // Analysis at 2 s a file (400 s at the double's speed of 200): the 12 files take 24 s.
      const { home, dir, configPath } = await prepare({ media: { tracks: 6 }, knobs: { timings: { analyzeItemMs: 400_000 } } });
      const stateDir = join(dir, 'state');
      const cli = (args: string[], timeoutMs = 60_000) => runCli([...args, '--config', configPath], { timeoutMs });
      const job = async (jobId: string) => (JSON.parse((await cli(['status', jobId, '--json'])).stdout) as { job: JobView }).job;
      const before = homeAnalyses(home.paths.mainDb);
      expect(before).toEqual({ media: { analysed: 0, total: 10 }, sonic: { analysed: 0, total: 6 } });

      const first = await cli(['run', '--mode', 'delta', '--json']);
      expect(first.status, first.stderr).toBe(0);
      const firstId = (JSON.parse(first.stdout) as { id: string }).id;
      await waitForProgress(stateDir, firstId, 'analyze', /^analysing Movies$/);
      const landing = await cli(['land', firstId]);
      expect(landing).toMatchObject({ status: 0, stdout: expect.stringMatching(new RegExp(`^job ${firstId}: landing \\(analyze\\): `)) });
      const firstWatch = await cli(['status', firstId, '--watch'], 240_000);
      expect(firstWatch.status, firstWatch.stderr).toBe(0);
      expect(firstWatch.stderr).toMatch(/landed \(asked by the user\); its work so far is installed\. Run again to continue/);
      const landedInAnalyze = await job(firstId);
      expect(landedInAnalyze.state).toBe('done');
      expect(landedInAnalyze.report?.landed).toMatchObject({ reason: 'asked by the user', unfinished: expect.arrayContaining(['analyze', 'sonic']) });
      // Home has the scan (the two new films) and the files analysed before Plex was stopped, not all of them.
      const afterFirst = homeAnalyses(home.paths.mainDb);
      expect(readStatsOf(home.paths.mainDb).library.sections.find((s) => s.title === 'Movies')?.counts.movie).toBe(6);
      expect(afterFirst.media.analysed, JSON.stringify(afterFirst)).toBeGreaterThan(0);
      expect(afterFirst.media.analysed).toBeLessThan(afterFirst.media.total);
      expect(afterFirst.sonic.analysed).toBe(0);

      // The next run: analysis at full speed, Sonic at 2.5 s a track (15 s for the 6).
      writeFileSync(join(dir, 'knobs.json'), JSON.stringify({ speed: 200, timings: { sonicTrackMs: 500_000 } }));
      const second = await cli(['run', '--mode', 'delta', '--json']);
      expect(second.status, second.stderr).toBe(0);
      const secondId = (JSON.parse(second.stdout) as { id: string }).id;
      await waitForProgress(stateDir, secondId, 'sonic', /^[1-5] of 6 tracks/);
      const sonicLanding = await cli(['land', secondId]);
      expect(sonicLanding).toMatchObject({ status: 0, stdout: expect.stringMatching(new RegExp(`^job ${secondId}: landing \\(sonic\\): `)) });
      const secondWatch = await cli(['status', secondId, '--watch'], 240_000);
      expect(secondWatch.status, secondWatch.stderr).toBe(0);
      const landedInSonic = await job(secondId);
      expect(landedInSonic.state).toBe('done');
      expect(landedInSonic.report?.landed).toMatchObject({ reason: 'asked by the user', unfinished: ['sonic'] });
      // The analysis the first run left is done; Sonic is part done, and home has those tracks analysed.
      const afterSecond = homeAnalyses(home.paths.mainDb);
      expect(afterSecond.media).toEqual({ analysed: 12, total: 12 });
      expect(afterSecond.sonic.analysed, JSON.stringify(afterSecond)).toBeGreaterThan(0);
      expect(afterSecond.sonic.analysed).toBeLessThan(6);
      expect(landedInSonic.report?.sonicSections?.[0]).toMatchObject({
        before: { analyzed: 0, total: 6 },
        after: { analyzed: afterSecond.sonic.analysed, total: 6 },
      });
      // What the landing took (its order to the machine's deletion), to a tenth of a second.
      const logged = (await cli(['logs', secondId, '--json'])).stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { at: number; event: AgentEvent });
      const ordered = logged.find((e) => e.event.type === 'log' && e.event.message.startsWith('landing: '))!;
      const torn = logged.find((e) => e.event.type === 'phase:complete' && e.event.phase === 'teardown')!;
      expect(Math.abs(landedInSonic.report!.landed!.actualSeconds! - (torn.at - ordered.at) / 1000)).toBeLessThanOrEqual(0.06);
    },
  );

  it('during the scan of a scan job: the section under way is finished, then the job ends without an install and says why', { timeout: 240_000 }, async () => {
    // A scan at 3 s a file (600 s at speed 200): Movies' 6 files take 18 s, time enough for
    // the CLI to start and the order to reach the agent on a loaded machine.
    const { home, dir, configPath } = await prepare({ knobs: { timings: { scanItemMs: 600_000 } } });
    const stateDir = join(dir, 'state');
    const cli = (args: string[], timeoutMs = 60_000) => runCli([...args, '--config', configPath], { timeoutMs });
    const homeBefore = readStatsOf(home.paths.mainDb).library;
    const started = await cli(['run', '--mode', 'scan', '--json']);
    expect(started.status, started.stderr).toBe(0);
    const jobId = (JSON.parse(started.stdout) as { id: string }).id;
    await waitForProgress(stateDir, jobId, 'scan', /^scanning Movies$/);
    const landing = await cli(['land', jobId]);
    expect(landing).toMatchObject({ status: 0, stdout: expect.stringMatching(new RegExp(`^job ${jobId}: landing \\(scan\\): `)) });
    const watched = await cli(['status', jobId, '--watch'], 180_000);
    const why =
      /the job landed before section "Music" was scanned: a scan job builds the library from nothing, so they would reach home empty; nothing is installed; run again with a larger budget/;
    expect(watched.status, watched.stderr).toBe(6);
    expect(watched.stderr).toMatch(why);
    const { job } = JSON.parse((await cli(['status', jobId, '--json'])).stdout) as { job: JobView };
    expect(job.state).toBe('failed');
    expect(job.error).toMatchObject({ code: 'SAFETY_STOP', message: expect.stringMatching(why) });
    expect(job.report?.landed).toMatchObject({ reason: 'asked by the user' });
    // Movies was scanned to its end before the scan stopped; Music was never started.
    const events = storedEvents(stateDir, jobId);
    expect(events).toContainEqual(expect.objectContaining({ type: 'phase:progress', phase: 'scan', message: expect.stringMatching(/^Movies: 6 files/) }));
    expect(events.some((e) => e.type === 'phase:progress' && e.message === 'scanning Music')).toBe(false);
    expect(events.some((e) => e.type === 'phase:start' && (e.phase === 'upload' || e.phase === 'install'))).toBe(false);
    // Home is as it was.
    expect(readStatsOf(home.paths.mainDb).library).toEqual(homeBefore);
  });
});
