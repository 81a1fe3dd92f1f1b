import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { warmFiles } from '../../packages/agent/src/warm.js';
import { createMediaTree } from '../utils/media-tree.js';
import { mountWithRclone } from '../utils/rclone-mount.js';
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
    const report = await warmFiles(tree.movies.map((f) => f.replace(join(dir, 'bucket'), join(dir, 'mnt'))), { timeoutMs: 20_000 });
    expect(report).toMatchObject({ total: 10, warmed: 0, stale: [] });
    expect(report.errors.map((e) => e.error)).toEqual(Array(10).fill('EIO'));
  });
});
