import { closeSync, ftruncateSync, mkdirSync, openSync, renameSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { VFS_PROFILE_NAMES } from '@plexlift/shared/protocol';
import { mountRclone } from '../../packages/agent/src/media/rclone-mount.js';
import { warmFiles } from '../../packages/agent/src/media/warm.js';
import { createMediaTree } from '../utils/media-tree.js';
import { startObjectStoreProxy } from '../utils/object-store-proxy.js';
import { mountWithRclone, serveBucket } from '../utils/rclone-mount.js';
import { createTempDir } from '../utils/temp-dir.js';

describe('warmFiles over a real rclone FUSE mount', () => {
  it('reads the head of every file, growing its concurrency while throughput grows', async () => {
    const dir = createTempDir();
    const tree = createMediaTree(join(dir, 'bucket'), { artists: 8, albums: 5, tracks: 10 });
    // A stale path: renamed in the bucket, still in the library DB.
    renameSync(tree.tracks[5]!, `${tree.tracks[5]!}.gone`);
    const mount = await mountWithRclone(join(dir, 'bucket'), join(dir, 'mnt'));
    onTestFinished(() => mount.unmount());
    const files = tree.tracks.map((f) => f.replace(join(dir, 'bucket'), join(dir, 'mnt')));
    const seen: number[] = [];
    const report = await warmFiles(files, { initialConcurrency: 2, maxConcurrency: 16, onProgress: (p) => seen.push(p.concurrency) });
    expect(report).toMatchObject({ total: 400, warmed: 399, errors: [], stale: [files[5]] });
    expect(Math.max(...seen)).toBeGreaterThan(2);
    expect(Math.max(...seen)).toBeLessThanOrEqual(16);
  });

  it('counts reads that fail on a dead remote as errors, not as stale paths', async () => {
    const dir = createTempDir();
    const tree = createMediaTree(join(dir, 'bucket'), { movies: 10 });
    const mount = await mountWithRclone(join(dir, 'bucket'), join(dir, 'mnt'));
    onTestFinished(() => mount.unmount());
    await mount.stopRemote();
    const report = await warmFiles(
      tree.movies.map((f) => f.replace(join(dir, 'bucket'), join(dir, 'mnt'))),
      { timeoutMs: 20_000 },
    );
    expect(report).toMatchObject({ total: 10, warmed: 0, stale: [] });
    expect(report.errors.map((e) => e.error)).toEqual(Array(10).fill('EIO'));
  });

  // In `full` cache mode rclone downloads most of the first range it asks of an opened file,
  // whatever the reader wants: with ranges of tens of MB, warming a 64 KiB head costs tens of MB
  // of egress per film (bench/RESULTS.md, B3).
  it.each(VFS_PROFILE_NAMES)('fetches a few MB per warmed film, not the read range, with the %s profile', async (profile) => {
    const dir = createTempDir();
    const films = 12;
    for (let i = 0; i < films; i++) {
      mkdirSync(join(dir, 'bucket', `Film ${i}`), { recursive: true });
      const fd = openSync(join(dir, 'bucket', `Film ${i}`, `Film ${i}.mkv`), 'w');
      ftruncateSync(fd, 4 * 1024 ** 3); // sparse: 4 GB of zeros that take no disk
      closeSync(fd);
    }
    const bucket = await serveBucket(join(dir, 'bucket'));
    onTestFinished(() => bucket.stop());
    await using store = await startObjectStoreProxy(bucket.url, { delayMs: 20 });
    const mount = await mountRclone({
      remote: ':http:',
      remoteArgs: ['--http-url', store.url],
      mountPoint: join(dir, 'mnt'),
      profile,
      cacheDir: join(dir, 'cache'),
    });
    onTestFinished(() => mount.unmount());
    // Asynchronously: the store answers rclone from this process's event loop.
    const files = (await readdir(join(dir, 'mnt'), { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
    expect(files).toHaveLength(films);

    const report = await warmFiles(files);
    // Time passes on purpose: rclone's downloaders go on a moment after the last reader closed
    // the file, and what they fetch then must be counted too.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(report.warmed).toBe(films);
    expect(store.bytesRead / films).toBeLessThan(3 * 1024 ** 2);
  });
});
