import { readdir } from 'node:fs/promises';
import { describeReadError, readHead, withTimeout } from './read-head.js';

export interface MountHealth {
  healthy: boolean;
  /** The root lists. */
  listed: boolean;
  /** Sample files whose head could be read. */
  readable: number;
  sampled: number;
  problems: string[];
}

/**
 * A mount is healthy when its root lists *and* sample files read: a listing alone is answered
 * from rclone's dir cache while reads fail, and a scan over such a mount marks the library
 * missing (plex-api.md, Traps: `autoEmptyTrash` defaults to true).
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
