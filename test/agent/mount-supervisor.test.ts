import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { MountSupervisor, type MountSupervisorOptions } from '../../packages/agent/src/media/mount-supervisor.js';
import { readHead } from '../../packages/agent/src/media/read-head.js';
import { createMediaTree } from '../utils/media-tree.js';
import { mountWithRclone } from '../utils/rclone-mount.js';
import { createTempDir } from '../utils/temp-dir.js';

type SupervisorEvent = Parameters<NonNullable<MountSupervisorOptions['onEvent']>>[0];

/** Another process reading a file through the mount, as Plex's scanner does. */
async function holdOpen(file: string) {
  const reader = spawn('bash', ['-c', 'exec 3<"$0"; sleep 120', file], { stdio: 'ignore' });
  const openFiles = () =>
    readdirSync(`/proc/${reader.pid}/fd`).map((fd) => {
      try {
        return readlinkSync(`/proc/${reader.pid}/fd/${fd}`);
      } catch {
        return '';
      }
    });
  const release = async () => {
    const exited = once(reader, 'exit');
    reader.kill('SIGKILL');
    await exited;
  };
  await vi
    .waitFor(() => expect(openFiles(), 'the reader holds the file open').toContain(file), { timeout: 10_000, interval: 20 })
    .catch(async (error: unknown) => {
      await release();
      throw error;
    });
  return release;
}

describe('the mount supervisor, on a real rclone FUSE mount', () => {
  it('never remounts while something reads through the mount, and remounts a dead mount once nothing does', async () => {
    const dir = createTempDir();
    const tree = createMediaTree(join(dir, 'bucket'), { movies: 3 });
    const mountPoint = join(dir, 'mnt');
    const mount = await mountWithRclone(join(dir, 'bucket'), mountPoint);
    onTestFinished(() => mount.unmount());
    const sample = tree.movies.map((file) => file.replace(join(dir, 'bucket'), mountPoint));
    const events: SupervisorEvent[] = [];
    const supervisor = new MountSupervisor(mount, { sampleFiles: () => sample.slice(0, 2), onEvent: (event) => events.push(event) });

    await supervisor.check();
    expect(events).toEqual([]); // healthy: nothing to do

    // rclone dies under a reader: the mount answers ENOTCONN.
    const release = await holdOpen(sample[2]!);
    spawnSync('pkill', ['-KILL', '-f', `rclone mount .* ${mountPoint} `]);
    await supervisor.check();
    expect(events.map((e) => e.decision)).toEqual(['wait-for-idle']);
    expect(events[0]!.health.problems.join(' ')).toMatch(/ENOTCONN/);
    expect(supervisor.remounts).toBe(0);

    // The reader is gone: now it is remounted, and the files read again.
    await release();
    await supervisor.check();
    expect(events.map((e) => e.decision)).toEqual(['wait-for-idle', 'remount', 'remounted']);
    expect(events[2]!.health.healthy).toBe(true);
    expect(supervisor.remounts).toBe(1);
    await readHead(sample[2]!, 4096);
  });
});
