import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { mountRclone, type RcloneMount } from '../../packages/agent/src/media/rclone-mount.js';
import { freePort } from './free-port.js';

export interface TestRcloneMount extends RcloneMount, AsyncDisposable {
  /** Kills the remote: listings still come from rclone's dir cache, reads fail (EIO). */
  stopRemote(): Promise<void>;
  startRemote(): Promise<void>;
}

/**
 * A real rclone FUSE mount of a local folder, made by the agent's own `mountRclone`: the folder is
 * served over HTTP on loopback by `rclone serve http` (the "bucket"). Stopping the remote
 * reproduces the degraded mount of the 221-of-224 incident: folders still list, reads fail.
 */
/** A folder served as an rclone "bucket" over HTTP on loopback; `remote` is its rclone remote. */
export async function serveBucket(source: string): Promise<{ url: string; remote: string; start: () => Promise<void>; stop: () => Promise<void> }> {
  const port = await freePort();
  let server: ChildProcess | undefined;
  const start = async () => {
    server = spawn('rclone', ['serve', 'http', source, '--addr', `127.0.0.1:${port}`], { stdio: 'ignore' });
    await waitForPort(port);
  };
  const stop = async () => {
    if (!server || server.exitCode !== null || server.signalCode !== null) return;
    // Killed outright: a remote that vanishes (and rclone serve waits on open keep-alive
    // connections when asked nicely).
    const exited = once(server, 'exit');
    server.kill('SIGKILL');
    await exited;
  };
  await start();
  const url = `http://127.0.0.1:${port}`;
  return { url, remote: `:http,url='${url}':`, start, stop };
}

export async function mountWithRclone(source: string, mountPoint: string): Promise<TestRcloneMount> {
  const bucket = await serveBucket(source);
  const startRemote = bucket.start;
  const stopRemote = bucket.stop;
  const mount = await mountRclone({
    remote: ':http:',
    remoteArgs: ['--http-url', bucket.url],
    mountPoint,
    profile: 'lite',
    cacheDir: join(dirname(mountPoint), '.rclone-cache'),
    overrides: { dirCacheTime: '1h' },
  });
  // A mount in use has its listings cached: walk it once, as the scans before this one did.
  readdirSync(mountPoint, { recursive: true });
  const unmount = async () => {
    await mount.unmount();
    await stopRemote();
  };
  return { ...mount, unmount, stopRemote, startRemote, [Symbol.asyncDispose]: unmount };
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
