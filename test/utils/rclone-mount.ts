import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port.js';

export interface RcloneMount extends AsyncDisposable {
  mountPoint: string;
  /** Stops the remote: listings still come from rclone's dir cache, reads fail (EIO). */
  stopRemote(): Promise<void>;
  startRemote(): Promise<void>;
  unmount(): Promise<void>;
}

/**
 * A real rclone FUSE mount of a local folder: `rclone serve http` on loopback as the remote,
 * `rclone mount` of it. Stopping the remote reproduces the degraded mount of the 221-of-224
 * incident: folders (and cached listings) still show, file reads fail.
 */
export async function mountWithRclone(source: string, mountPoint: string): Promise<RcloneMount> {
  mkdirSync(mountPoint, { recursive: true });
  const port = await freePort();
  let server: ChildProcess | undefined;
  const startRemote = async () => {
    server = spawn('rclone', ['serve', 'http', source, '--addr', `127.0.0.1:${port}`], { stdio: 'ignore' });
    await waitForPort(port);
  };
  const stopRemote = async () => {
    if (!server || server.exitCode !== null || server.signalCode !== null) return;
    // Killed outright: a remote that vanishes (and rclone serve waits on open keep-alive
    // connections when asked nicely).
    const exited = once(server, 'exit');
    server.kill('SIGKILL');
    await exited;
  };
  await startRemote();
  const mount = spawn(
    'rclone',
    ['mount', ':http:', mountPoint, '--http-url', `http://127.0.0.1:${port}`, '--dir-cache-time', '1h', '--vfs-cache-mode', 'off', '--read-only', '--daemon-timeout', '5s'],
    { stdio: 'ignore' },
  );
  for (let i = 0; readdirSync(mountPoint).length === 0; i++) {
    if (mount.exitCode !== null) throw new Error(`rclone mount exited with ${mount.exitCode}`);
    if (i > 100) throw new Error(`rclone mount of ${mountPoint} did not come up`);
    await sleep(50);
  }
  // A mount in use has its listings cached: walk it once, as the scans before this one did.
  readdirSync(mountPoint, { recursive: true });
  const unmount = async () => {
    spawnSync('fusermount3', ['-u', '-z', mountPoint], { stdio: 'ignore' });
    if (mount.exitCode === null) {
      mount.kill('SIGTERM');
      // A FUSE read stuck on a dead remote can keep rclone from exiting.
      const killer = setTimeout(() => mount.kill('SIGKILL'), 5_000);
      await once(mount, 'exit');
      clearTimeout(killer);
    }
    await stopRemote();
  };
  return { mountPoint, stopRemote, startRemote, unmount, [Symbol.asyncDispose]: unmount };
}


async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await sleep(25);
  }
  throw new Error(`rclone serve on port ${port} did not come up`);
}
