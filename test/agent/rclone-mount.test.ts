import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { decideRemount } from '../../packages/agent/src/media/mount-health.js';
import { rcloneMountArgs } from '../../packages/agent/src/media/rclone-mount.js';
import { createMediaTree } from '../utils/media-tree.js';
import { mountWithRclone } from '../utils/rclone-mount.js';
import { createTempDir } from '../utils/temp-dir.js';

describe('rclone mount', () => {
  it('builds the command line of a VFS profile: read-only, full cache, small ranges, short attribute cache', () => {
    const args = rcloneMountArgs({ remote: 'media:bucket', mountPoint: '/Media', profile: 'power', cacheDir: '/var/cache/plexlift', uid: 1000 });
    expect(args.slice(0, 4)).toEqual(['mount', 'media:bucket', '/Media', '--read-only']);
    const flag = (name: string) => args[args.indexOf(name) + 1];
    expect(flag('--vfs-cache-mode')).toBe('full');
    expect(flag('--vfs-cache-max-size')).toBe('20G');
    // Small ranges, no read-ahead: warming a head costs about 1 MB of egress (see warm.test.ts).
    expect([flag('--vfs-read-chunk-size'), flag('--buffer-size'), flag('--vfs-read-ahead')]).toEqual(['1M', '1M', '0']);
    expect(flag('--transfers')).toBe('16');
    expect(flag('--attr-timeout')).toBe('1m');
    expect(flag('--uid')).toBe('1000');
    expect(args).toContain('--allow-other');
    expect(rcloneMountArgs({ remote: 'r:', mountPoint: '/m', profile: 'lite', cacheDir: '/c' })).not.toContain('--allow-other');
  });

  it('a healthy mount lists and reads; a dead remote still lists but fails the health check', async () => {
    const dir = createTempDir();
    const tree = createMediaTree(join(dir, 'bucket'), { movies: 5 });
    const mount = await mountWithRclone(join(dir, 'bucket'), join(dir, 'Media'));
    onTestFinished(() => mount.unmount());
    const samples = tree.movies.map((f) => f.replace(join(dir, 'bucket'), join(dir, 'Media')));
    const healthy = await mount.checkHealth(samples.slice(0, 2));
    expect(healthy).toEqual({ healthy: true, listed: true, readable: 2, sampled: 2, problems: [] });
    await mount.stopRemote();
    const degraded = await mount.checkHealth(samples.slice(2));
    expect(degraded).toMatchObject({ healthy: false, listed: true, readable: 0, sampled: 3 });
    expect(degraded.problems[0]).toMatch(/: EIO$/);
    // Never remount under a running scan: that is what empties a library.
    expect(decideRemount(degraded, { ioActive: true })).toBe('wait-for-idle');
    expect(decideRemount(degraded, { ioActive: false })).toBe('remount');
    expect(decideRemount(healthy, { ioActive: false })).toBe('keep');
  });
});
