import { mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { closeDatabase, openDatabaseReadOnly } from '@plexlift/shared/plex-db';
import { PlexClient } from '@plexlift/shared/plex-api';
import { parseJobSpec } from '@plexlift/shared/protocol';
import { runPhases } from '../../packages/agent/src/phase-runner.js';
import { preflight } from '../../packages/agent/src/phases/preflight.js';
import { assertVisible, filesUnder, knownFiles, probeVisibility } from '../../packages/agent/src/media/visibility-probe.js';
import { startTestSim } from '../plex-sim/sim-fixture.js';
import { jobStateFor } from '../utils/agent-job-state.js';
import { createMediaTree } from '../utils/media-tree.js';
import { mountWithRclone } from '../utils/rclone-mount.js';
import { createTempDir } from '../utils/temp-dir.js';

async function mounted(size = { movies: 12 }, beforeMount: (tree: ReturnType<typeof createMediaTree>) => void = () => undefined) {
  const dir = createTempDir();
  const source = createMediaTree(join(dir, 'bucket'), size);
  beforeMount(source);
  const mount = await mountWithRclone(join(dir, 'bucket'), join(dir, 'mnt'));
  onTestFinished(() => mount.unmount());
  const onMount = (file: string) => file.replace(join(dir, 'bucket'), join(dir, 'mnt'));
  return { dir, source, mount, movies: source.movies.map(onMount) };
}

describe('probeVisibility over a real rclone FUSE mount', () => {
  it('passes when the files the DB knows can be read through the mount', async () => {
    const { movies } = await mounted();
    const report = await probeVisibility(movies, { sampleSize: 50 });
    expect(report).toEqual({ sampled: 12, visible: 12, missing: [] });
    expect(() => assertVisible(report, { section: 'Movies', maxMissingPercent: 5 })).not.toThrow();
  });

  it('the 221-of-224 mount (folders list, files cannot be read) stops the scan before it starts', async () => {
    const { movies, mount, dir } = await mounted();
    await mount.stopRemote();
    // The degraded state: the listing still answers from rclone's cache.
    expect((await import('node:fs')).readdirSync(join(dir, 'mnt', 'Movies'))).toHaveLength(12);
    const report = await probeVisibility(movies, { timeoutMs: 20_000 });
    expect(report.visible).toBe(0);
    expect(new Set(report.missing.map((m) => m.error))).toEqual(new Set(['EIO']));
    expect(() => assertVisible(report, { section: 'Movies', maxMissingPercent: 5 })).toThrow(
      expect.objectContaining({
        code: 'SAFETY_STOP',
        exitCode: 6,
        message: expect.stringMatching(/^section "Movies": 12 of 12 files the library knows are not visible or readable on the mount \(e\.g\. .*EIO\)/),
      }),
    );
  });

  it('tolerates a stale path under the threshold', async () => {
    // Renamed in the bucket long ago: the mount's listing does not show it (ENOENT).
    const { movies } = await mounted({ movies: 40 }, (tree) => renameSync(tree.movies[0]!, `${tree.movies[0]!}.renamed`));
    const one = await probeVisibility(movies);
    expect(one.missing).toEqual([{ file: movies[0], error: 'ENOENT' }]);
    expect(() => assertVisible(one, { section: 'Movies', maxMissingPercent: 5 })).not.toThrow();
  });

  it('names the missing files over the threshold, stale or gone since rclone listed them', async () => {
    const { movies, source } = await mounted({ movies: 40 }, (tree) => renameSync(tree.movies[0]!, `${tree.movies[0]!}.renamed`));
    // Renamed after rclone cached the listing, never read: it still lists them, and with the full
    // VFS cache their reads fail or hang (rclone retries the download) until the probe's timeout.
    for (const file of source.movies.slice(1, 4)) renameSync(file, `${file}.renamed`);
    const four = await probeVisibility(movies, { timeoutMs: 3_000 });
    expect(four.missing.map((m) => m.file)).toEqual(movies.slice(0, 4).sort());
    expect(four.missing.filter((m) => m.error === 'ENOENT')).toEqual([{ file: movies[0], error: 'ENOENT' }]);
    expect(four.missing.every((m) => ['ENOENT', 'EIO', 'ETIMEDOUT'].includes(m.error))).toBe(true);
    expect(() => assertVisible(four, { section: 'Movies', maxMissingPercent: 5 })).toThrow(/4 of 40 files/);
  });

  it('samples evenly across a large section', async () => {
    const { movies } = await mounted({ movies: 120 });
    const report = await probeVisibility(movies, { sampleSize: 30 });
    expect(report).toMatchObject({ sampled: 30, visible: 30 });
  });

  it('reads the files a section knows from the library DB', async () => {
    const { sim, media, addSection } = await startTestSim();
    const id = await addSection('Movies', 'movie', media.roots.movies);
    await sim.stop();
    const db = openDatabaseReadOnly(sim.paths.mainDb);
    try {
      expect(knownFiles(db, id)).toEqual([...media.movies].sort());
    } finally {
      closeDatabase(db);
    }
  });
});

describe('a scan job, which has no DB yet: the library locations on the mount', () => {
  it('finds files spread over the folders and their sort order, first and last included, and a location that does not list stops the job', async () => {
    const { dir, movies } = await mounted({ movies: 30 });
    const sorted = [...movies].sort();
    expect(await filesUnder(join(dir, 'mnt', 'Movies'))).toEqual(sorted);
    // Eleven listings: the location, then five of its thirty folders (half the listings left), evenly.
    const spread = await filesUnder(join(dir, 'mnt', 'Movies'), { maxFolders: 11 });
    expect(spread).toHaveLength(5);
    expect(spread[0]).toBe(sorted[0]);
    expect(spread.at(-1)).toBe(sorted.at(-1));
    expect(spread.every((file) => sorted.includes(file))).toBe(true);
    await expect(filesUnder(join(dir, 'mnt', 'Films'))).rejects.toMatchObject({
      code: 'SAFETY_STOP',
      message: expect.stringMatching(/library location .*\/mnt\/Films does not list on the mount \(ENOENT\)/),
    });
  });

  it('preflight refuses a library whose location holds no file', async () => {
    const { dir } = await mounted({ movies: 2 }, (tree) => mkdirSync(join(tree.roots.movies, '..', 'Empty')));
    const job = parseJobSpec({
      jobId: 'job-scan',
      mode: 'scan',
      plex: { version: '1.43.2.10687-563d026ea' },
      media: { mountPath: join(dir, 'mnt'), remote: 'r:' },
      libraries: [{ name: 'Films', type: 'movie', locations: [join(dir, 'mnt', 'Empty')] }],
    });
    // A scan job's preflight reads the mount, not Plex: a client nobody calls.
    const state = jobStateFor({
      workDir: dir,
      pmsDir: dir,
      mainDb: join(dir, 'none.db'),
      plex: new PlexClient({ url: 'http://127.0.0.1:9' }),
      mountSample: [],
    });
    await expect(runPhases([preflight], { job, state, signal: new AbortController().signal, report: () => undefined })).rejects.toMatchObject({
      code: 'SAFETY_STOP',
      message: expect.stringMatching(/library "Films": no file found under .*\/mnt\/Empty on the mount; a scan would build an empty library/),
    });
  });
});
