import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { PlexliftError } from '@plexlift/shared';
import { describeReadError, readHead, withTimeout } from './read-head.js';

/**
 * VFS profiles by VM size (the predecessor's table, predecessor.md §1.6), minus what hurt it: the
 * attribute cache is minutes, not a year, and the dir cache hours, so a dead remote is not hidden
 * behind listings for days (the precondition of the 221/224 deletion).
 */
export interface VfsProfile {
  cacheMaxSize: string;
  /** `--vfs-read-chunk-size`: the first range asked of each opened file, doubled on sequential reads up to 1 GiB. */
  readChunkSize: string;
  /** `--buffer-size`: what rclone reads ahead in memory for each open file. */
  bufferSize: string;
  /** `--vfs-read-ahead`: what it reads ahead on disk beyond that. */
  readAhead: string;
  transfers: number;
  dirCacheTime: string;
}

/**
 * Small first ranges and no read-ahead, for every profile. In `full` cache mode rclone keeps
 * downloading the range and the read-ahead after a reader closed a file: with the predecessor's
 * 64M/128M/128M, warming a 64 KiB head fetched 25–65 MB per film (bench B3: hundreds of GB of
 * object store egress for a large library, and a machine too busy to warm); with these, 1 MB.
 * A sequential reader (analysis, BIF) keeps its speed: its ranges double, and a cold GiB reads
 * at 230 MB/s instead of 273 over loopback (B3), more than one S3 stream delivers.
 */
const HEAD_FRIENDLY_READS = { readChunkSize: '1M', bufferSize: '1M', readAhead: '0' } as const;

export const VFS_PROFILES = {
  lite: { ...HEAD_FRIENDLY_READS, cacheMaxSize: '5G', transfers: 2, dirCacheTime: '12h' },
  standard: { ...HEAD_FRIENDLY_READS, cacheMaxSize: '10G', transfers: 4, dirCacheTime: '12h' },
  power: { ...HEAD_FRIENDLY_READS, cacheMaxSize: '20G', transfers: 16, dirCacheTime: '12h' },
  superpower: { ...HEAD_FRIENDLY_READS, cacheMaxSize: '40G', transfers: 32, dirCacheTime: '12h' },
} as const satisfies Record<string, VfsProfile>;

export type VfsProfileName = keyof typeof VFS_PROFILES;

export interface RcloneMountOptions {
  /** `remote:path`, or an on-the-fly remote such as `:http:` with its flags in `remoteArgs`. */
  remote: string;
  remoteArgs?: string[];
  /** The same path the home server uses for the media. */
  mountPoint: string;
  profile: VfsProfileName;
  cacheDir: string;
  /** rclone config holding the storage credentials (written by the agent, never logged). */
  configPath?: string | undefined;
  /** Owner of the files as Plex sees them. */
  uid?: number;
  gid?: number;
  /** Overrides of the profile, e.g. `dirCacheTime` in tests. */
  overrides?: Partial<VfsProfile>;
}

/** The `rclone mount` command line for a profile: read-only, full VFS cache. */
export function rcloneMountArgs(options: RcloneMountOptions): string[] {
  const profile: VfsProfile = { ...VFS_PROFILES[options.profile], ...options.overrides };
  return [
    'mount',
    options.remote,
    options.mountPoint,
    ...(options.remoteArgs ?? []),
    '--read-only',
    '--vfs-cache-mode', 'full',
    '--vfs-cache-max-size', profile.cacheMaxSize,
    '--vfs-cache-max-age', '72h',
    '--buffer-size', profile.bufferSize,
    '--vfs-read-ahead', profile.readAhead,
    '--vfs-read-chunk-size', profile.readChunkSize,
    '--vfs-read-chunk-size-limit', '1G',
    '--transfers', String(profile.transfers),
    '--dir-cache-time', profile.dirCacheTime,
    '--attr-timeout', '1m',
    '--cache-dir', options.cacheDir,
    ...(options.configPath ? ['--config', options.configPath] : []),
    ...(options.uid !== undefined ? ['--uid', String(options.uid), '--gid', String(options.gid ?? options.uid)] : []),
    ...(options.uid !== undefined ? ['--allow-other'] : []),
  ];
}

export interface MountHealth {
  healthy: boolean;
  /** The root lists. */
  listed: boolean;
  /** Sample files whose head could be read. */
  readable: number;
  sampled: number;
  problems: string[];
}

export interface RcloneMount {
  mountPoint: string;
  checkHealth: (sampleFiles: string[], timeoutMs?: number) => Promise<MountHealth>;
  /** Unmounts and mounts again with the same options (never while Plex reads: see decideRemount). */
  remount: (signal?: AbortSignal) => Promise<void>;
  unmount: () => Promise<void>;
}

/**
 * Mounts the media remote with rclone in the foreground (the agent owns the process; no
 * `--daemon`) and waits until the mount point is really a FUSE mount that lists.
 */
export async function mountRclone(options: RcloneMountOptions, signal?: AbortSignal): Promise<RcloneMount> {
  mkdirSync(options.mountPoint, { recursive: true });
  mkdirSync(options.cacheDir, { recursive: true });
  let child = await startRclone(options, signal);
  const unmount = async () => {
    spawnSync('fusermount3', ['-u', '-z', options.mountPoint], { stdio: 'ignore' });
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      // A FUSE read stuck on a dead remote can keep rclone from exiting.
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    }
  };
  return {
    mountPoint: options.mountPoint,
    checkHealth: (files, timeoutMs) => checkMountHealth(options.mountPoint, files, timeoutMs),
    remount: async (remountSignal) => {
      await unmount();
      child = await startRclone(options, remountSignal);
    },
    unmount,
  };
}

async function startRclone(options: RcloneMountOptions, signal: AbortSignal | undefined): Promise<ChildProcess> {
  const child: ChildProcess = spawn('rclone', rcloneMountArgs(options), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4096)));
  for (let i = 0; !isMounted(options.mountPoint); i++) {
    if (signal?.aborted || child.exitCode !== null || i > 300) {
      child.kill('SIGKILL');
      signal?.throwIfAborted();
      throw new PlexliftError('PLEX_NOT_READY', `rclone could not mount ${options.remote} on ${options.mountPoint}: ${lastLine(stderr) || 'no answer in 30 s'}`);
    }
    await sleep(100);
  }
  return child;
}

/**
 * A mount is healthy when its root lists *and* sample files read: a listing alone is answered
 * from rclone's dir cache while reads fail (the predecessor's `ls` check passed on the mount that
 * cost it 221 films).
 */
export async function checkMountHealth(mountPoint: string, sampleFiles: string[], timeoutMs = 15_000): Promise<MountHealth> {
  const health: MountHealth = { healthy: false, listed: false, readable: 0, sampled: sampleFiles.length, problems: [] };
  try {
    await withTimeout(readdir(mountPoint), timeoutMs);
    health.listed = true;
  } catch (error) {
    health.problems.push(`${mountPoint} does not list: ${describeReadError(error)}`);
  }
  await Promise.all(
    sampleFiles.map(async (file) => {
      try {
        await withTimeout(readHead(file, 4096), timeoutMs);
        health.readable += 1;
      } catch (error) {
        health.problems.push(`${file}: ${describeReadError(error)}`);
      }
    }),
  );
  health.healthy = health.listed && health.readable === health.sampled;
  return health;
}

/**
 * Whether to remount: never while Plex reads through the mount (a lazy unmount under a scan is
 * what empties a library), and never for a mount that is fine.
 */
export function decideRemount(health: MountHealth, options: { ioActive: boolean }): 'keep' | 'remount' | 'wait-for-idle' {
  if (health.healthy) return 'keep';
  return options.ioActive ? 'wait-for-idle' : 'remount';
}

function isMounted(mountPoint: string): boolean {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((line) => {
      const [, point, type] = line.split(' ');
      return point?.replace(/\\040/g, ' ') === mountPoint && type?.startsWith('fuse') === true;
    });
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) ?? '';
}
