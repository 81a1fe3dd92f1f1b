import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { PlexliftError } from '@plexlift/shared';
import { collectStderr, lastLine, stopChild } from '@plexlift/shared/process';
import type { VfsProfileName } from '@plexlift/shared/protocol';
import { checkMountHealth, type MountHealth } from './mount-health.js';
import { VFS_PROFILES, type VfsProfile } from './vfs-profiles.js';

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
    '--vfs-cache-mode',
    'full',
    '--vfs-cache-max-size',
    profile.cacheMaxSize,
    '--vfs-cache-max-age',
    '72h',
    '--buffer-size',
    profile.bufferSize,
    '--vfs-read-ahead',
    profile.readAhead,
    '--vfs-read-chunk-size',
    profile.readChunkSize,
    '--vfs-read-chunk-size-limit',
    '1G',
    '--transfers',
    String(profile.transfers),
    '--dir-cache-time',
    profile.dirCacheTime,
    '--attr-timeout',
    '1m',
    '--cache-dir',
    options.cacheDir,
    ...(options.configPath ? ['--config', options.configPath] : []),
    ...(options.uid !== undefined ? ['--uid', String(options.uid), '--gid', String(options.gid ?? options.uid)] : []),
    ...(options.uid !== undefined ? ['--allow-other'] : []),
  ];
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
    // A FUSE read stuck on a dead remote can keep rclone from exiting on SIGTERM.
    await stopChild(child, { killAfterMs: 5_000 });
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
  const stderr = collectStderr(child);
  for (let i = 0; !isMounted(options.mountPoint); i++) {
    if (signal?.aborted || child.exitCode !== null || i > 300) {
      child.kill('SIGKILL');
      signal?.throwIfAborted();
      throw new PlexliftError(
        'PLEX_NOT_READY',
        `rclone could not mount ${options.remote} on ${options.mountPoint}: ${lastLine(stderr()) || 'no answer in 30 s'}`,
      );
    }
    await sleep(100);
  }
  return child;
}

function isMounted(mountPoint: string): boolean {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((line) => {
      const [, point, type] = line.split(' ');
      return point?.replace(/\\040/g, ' ') === mountPoint && type?.startsWith('fuse') === true;
    });
}
