import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface DockerEngine extends AsyncDisposable {
  socket: string;
  /** Runs the docker CLI against this engine; throws with its stderr when it fails. */
  docker(args: string[], options?: { input?: string | Buffer }): string;
  stop(): Promise<void>;
}

/**
 * A private Docker engine for tests: Debian's `dockerd` with its own socket and data root,
 * no iptables and no bridge (containers use `--network host`: tests only touch loopback).
 */
export async function startDockerEngine(root: string): Promise<DockerEngine> {
  mkdirSync(root, { recursive: true });
  const socket = join(root, 'docker.sock');
  const daemon: ChildProcess = spawn(
    'dockerd',
    [
      '--iptables=false',
      '--ip6tables=false',
      '--bridge=none',
      '--data-root',
      join(root, 'data'),
      '--exec-root',
      join(root, 'exec'),
      '--pidfile',
      join(root, 'dockerd.pid'),
      '-H',
      `unix://${socket}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  daemon.stderr!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-8192)));
  const docker = (args: string[], options: { input?: string | Buffer } = {}) => {
    const result = spawnSync('docker', ['-H', `unix://${socket}`, ...args], { encoding: 'utf8', input: options.input, maxBuffer: 1024 * 1024 * 1024 });
    if (result.status !== 0) throw new Error(`docker ${args.join(' ')}: ${result.stderr || result.error?.message}`);
    return result.stdout;
  };
  for (let i = 0; ; i++) {
    if (daemon.exitCode !== null) throw new Error(`dockerd exited: ${log}`);
    if (existsSync(socket) && spawnSync('docker', ['-H', `unix://${socket}`, 'info'], { stdio: 'ignore' }).status === 0) break;
    if (i > 300) throw new Error(`dockerd did not come up: ${log}`);
    await sleep(100);
  }
  const stop = async () => {
    if (daemon.exitCode !== null) return;
    daemon.kill('SIGTERM');
    const killer = setTimeout(() => daemon.kill('SIGKILL'), 15_000);
    await once(daemon, 'exit');
    clearTimeout(killer);
    // dockerd leaves its network namespace and overlay mounts behind; without this the
    // folder cannot be removed.
    const mounts = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[1]?.replace(/\\040/g, ' '))
      .filter((point): point is string => point !== undefined && point.startsWith(root + '/'))
      .reverse();
    for (const point of mounts) spawnSync('umount', ['-l', point], { stdio: 'ignore' });
  };
  return { socket, docker, stop, [Symbol.asyncDispose]: stop };
}

export interface DockerSandbox extends AsyncDisposable {
  /** A folder for the test's files, readable by containers' own users (0755). */
  root: string;
  engine: DockerEngine;
  /** Stops the engine and removes the folder. */
  close(): Promise<void>;
}

/** A private engine in a fresh folder, for a Docker test file's `beforeAll`/`afterAll`. */
export async function startDockerSandbox(prefix: string): Promise<DockerSandbox> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  // Containers run Plex as PLEX_UID: it must reach the config folders made under here.
  chmodSync(root, 0o755);
  const engine = await startDockerEngine(join(root, 'engine'));
  const close = async () => {
    await engine.stop();
    rmSync(root, { recursive: true, force: true });
  };
  return { root, engine, close, [Symbol.asyncDispose]: close };
}
