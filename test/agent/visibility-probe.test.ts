import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { closeDatabase, openDatabaseReadOnly } from '@plexlift/shared/plex-db';
import { assertVisible, knownFiles, probeVisibility } from '../../packages/agent/src/visibility-probe.js';
import { startTestSim } from '../plex-sim/sim-fixture.js';
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
      expect.objectContaining({ code: 'SAFETY_STOP', exitCode: 6, message: expect.stringMatching(/^section "Movies": 12 of 12 files the library knows are not visible or readable on the mount \(e\.g\. .*EIO\)/) }),
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
