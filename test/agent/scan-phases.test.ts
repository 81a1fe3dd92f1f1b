import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { PlexClient, applyPreferences } from '@plexlift/shared/plex-api';
import { parseJobSpec, type AgentEvent } from '@plexlift/shared/protocol';
import { runPhases } from '../../packages/agent/src/phase-runner.js';
import { preflight } from '../../packages/agent/src/phases/preflight.js';
import { scan } from '../../packages/agent/src/phases/scan.js';
import { warm } from '../../packages/agent/src/phases/warm.js';
import { startTestSim } from '../plex-sim/sim-fixture.js';
import { jobStateFor } from '../utils/agent-job-state.js';
import { createMediaTree } from '../utils/media-tree.js';
import { mountWithRclone } from '../utils/rclone-mount.js';
import { readStatsOf } from '../utils/sqlite-files.js';
import { createTempDir } from '../utils/temp-dir.js';
import { FAST_IDLE } from '../utils/fast-idle.js';

function job(extra: Record<string, unknown> = {}) {
  return parseJobSpec({
    jobId: 'job-scan',
    mode: 'delta',
    plex: { version: '1.43.2.10687-563d026ea' },
    media: { mountPath: '/Media', remote: 'r:' },
    ...extra,
  });
}

/** A library already scanned once, with autoEmptyTrash off as plex-start leaves it. */
async function scannedLibrary(mediaRoot?: string) {
  const test = await startTestSim({ media: { movies: 224 } });
  const roots = mediaRoot ?? test.media.roots.movies;
  await test.addSection('Movies', 'movie', roots);
  const client = new PlexClient({ url: test.sim.url });
  await applyPreferences(client, { autoEmptyTrash: false });
  // As mount, plex-start and a scan leave it.
  const state = jobStateFor({
    plex: client,
    sections: await client.sections(),
    mountSample: [],
    mainDb: test.sim.paths.mainDb,
    workDir: test.dir,
    pmsDir: test.sim.paths.pms,
    idle: FAST_IDLE,
    sonic: { intervalMs: 50, timeoutMs: 60_000, tracker: {} },
  });
  const events: AgentEvent[] = [];
  return { ...test, state, events, report: (event: AgentEvent) => events.push(event) };
}

describe('preflight and scan phases', () => {
  it('a healthy scan passes both, section by section, with progress', async () => {
    const { state, events, report } = await scannedLibrary();
    const run = await runPhases([preflight, scan], { job: job(), state, signal: new AbortController().signal, report });
    expect(run.completed).toEqual(['preflight', 'scan']);
    expect(events.find((e) => e.type === 'phase:complete' && e.phase === 'scan')).toMatchObject({
      summary: { sections: { Movies: { before: 224, lost: 0 } } },
    });
  });

  it('a section that takes seconds to scan reports as Plex goes: percent, items/h and an ETA, before the section ends', { timeout: 60_000 }, async () => {
    const { sim, state, events, report } = await scannedLibrary();
    // 224 films at 60 ms each, in real time: about 13 s of scanning.
    Object.assign(sim.runtime.options, { speed: 1, timings: { ...sim.runtime.options.timings, scanItemMs: 60 } });
    await runPhases([scan], { job: job(), state, signal: new AbortController().signal, report });
    const during = events.filter((e) => e.type === 'phase:progress' && e.phase === 'scan' && e.percent! > 0 && e.percent! < 100);
    expect(during.length).toBeGreaterThanOrEqual(1);
    expect(during.at(-1)).toMatchObject({
      rate: { unit: 'items/h', value: expect.any(Number) },
      etaMs: expect.any(Number),
      message: expect.stringMatching(/^scanning Movies: 224 files \(\d+ %\)$/),
    });
    // Smoothed: one item at 60 ms is 60,000 items/h; the rate stays near it, not jumping by 10×.
    for (const event of during.filter((e) => e.type === 'phase:progress' && e.rate)) {
      const { value } = (event as { rate: { value: number } }).rate;
      expect(value).toBeGreaterThan(20_000);
      expect(value).toBeLessThan(70_000);
    }
    const percents = during.map((e) => (e as { percent: number }).percent);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
  });

  it('the 221-of-224 mount: preflight stops the job before the scan, and nothing is marked deleted', async () => {
    const dir = createTempDir();
    createMediaTree(join(dir, 'bucket'), { movies: 224 });
    const first = await mountWithRclone(join(dir, 'bucket'), join(dir, 'Media'));
    const library = await scannedLibrary(join(dir, 'Media', 'Movies'));
    expect(readStatsOf(library.sim.paths.mainDb).library.sections[0]?.counts.movie).toBe(224);
    // A later job on a new VM: same paths, cold VFS cache, listings cached, then the remote dies.
    await first.unmount();
    rmSync(join(dir, '.rclone-cache'), { recursive: true, force: true });
    const mount = await mountWithRclone(join(dir, 'bucket'), join(dir, 'Media'));
    onTestFinished(() => mount.unmount());
    await mount.stopRemote(); // folders still list, files cannot be read

    await expect(
      runPhases([preflight, scan], { job: job(), state: library.state, signal: new AbortController().signal, report: library.report }),
    ).rejects.toMatchObject({
      code: 'SAFETY_STOP',
      exitCode: 6,
      message: expect.stringMatching(/^section "Movies": 50 of 50 files the library knows are not visible or readable on the mount/),
    });
    expect(library.events.map((e) => e.type)).toEqual(['phase:start', 'phase:fail']);
    expect(readStatsOf(library.sim.paths.mainDb).library.sections[0]).toMatchObject({ counts: { movie: 224 }, deleted: 0 });
  });

  it('a scan that loses more than the cap stops the job naming the section and counts, unless deletions are allowed', async () => {
    const library = await scannedLibrary();
    library.sim.faults.invisibleFiles = true; // past the preflight: what the scan itself sees
    await expect(runPhases([scan], { job: job(), state: library.state, signal: new AbortController().signal, report: library.report })).rejects.toMatchObject({
      code: 'SAFETY_STOP',
      message: expect.stringMatching(/^section "Movies" \(id 1\): the scan lost 224 of 224 items, more than the cap of 11/),
    });

    const allowed = await scannedLibrary();
    allowed.sim.faults.invisibleFiles = true;
    const run = await runPhases([scan], {
      job: job({ allowDeletions: true }),
      state: allowed.state,
      signal: new AbortController().signal,
      report: allowed.report,
    });
    expect(run.completed).toEqual(['scan']);
  });

  it('warms every file of each section before analysis, counting stale paths apart, and is skipped with --skip-analysis', async () => {
    const library = await scannedLibrary();
    renameSync(library.media.movies[0]!, `${library.media.movies[0]!}.renamed`);
    await runPhases([warm], { job: job(), state: library.state, signal: new AbortController().signal, report: library.report });
    expect(library.events.find((e) => e.type === 'phase:complete')).toMatchObject({
      summary: { sections: { Movies: { total: 224, warmed: 223, errors: 0, stale: 1 } } },
    });
    expect(library.events.some((e) => e.type === 'phase:progress' && e.rate?.unit === 'files/s')).toBe(true);
    const skipped = await runPhases([warm], {
      job: job({ skipAnalysis: true }),
      state: library.state,
      signal: new AbortController().signal,
      report: () => undefined,
    });
    expect(skipped.skipped).toEqual(['warm']);
  });

  it("warming's percent is over every section, never back to 0 at the next one", { timeout: 60_000 }, async () => {
    const library = await scannedLibrary();
    await library.addSection('Films again', 'movie', library.media.roots.movies);
    const state = { ...library.state, sections: await library.state.plex!.sections() };
    await runPhases([warm], { job: job(), state, signal: new AbortController().signal, report: library.report });
    const percents = library.events.flatMap((e) => (e.type === 'phase:progress' && e.phase === 'warm' ? [e.percent!] : []));
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents.some((p) => p > 40 && p < 60)).toBe(true);
    expect(percents.at(-1)).toBe(100);
  });

  it('names a section the library does not have', async () => {
    const { state, report } = await scannedLibrary();
    await expect(runPhases([preflight], { job: job({ sections: ['Films'] }), state, signal: new AbortController().signal, report })).rejects.toMatchObject({
      code: 'BAD_ARGUMENT',
      message: 'section "Films" is not in this library (it has: "Movies" (1))',
    });
  });
});
