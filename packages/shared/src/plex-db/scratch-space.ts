import { mkdtempSync, rmSync, statfsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PlexliftError } from '../errors.js';
import { databaseFileSet } from './database-files.js';

export interface ScratchDir extends Disposable {
  path: string;
}

/** Bytes a copy of the DB needs: the file and its WAL (a backup folds the WAL in). */
export function databaseBytes(path: string): number {
  return databaseFileSet(path).reduce((sum, file) => {
    try {
      return sum + statSync(file).size;
    } catch {
      return sum;
    }
  }, 0);
}

export function freeBytes(dir: string): number {
  const stat = statfsSync(dir);
  return stat.bavail * stat.bsize;
}

/**
 * A private temporary folder with room for `bytes` (plus 10 %), in `preferred` when given, else
 * the system temp folder or, failing that, the folder of `near` (same disk as the DB).
 * Removed with everything in it on dispose.
 */
export function createScratchDir(bytes: number, options: { preferred?: string | undefined; near: string; field?: string }): ScratchDir {
  const needed = Math.ceil(bytes * 1.1) + 1024 * 1024;
  const candidates = options.preferred ? [options.preferred] : [tmpdir(), dirname(options.near)];
  const tried: string[] = [];
  for (const candidate of candidates) {
    let free: number;
    try {
      free = freeBytes(candidate);
    } catch {
      tried.push(`${candidate} (not usable)`);
      continue;
    }
    if (free < needed) {
      tried.push(`${candidate} (${formatBytes(free)} free)`);
      continue;
    }
    try {
      const path = mkdtempSync(join(candidate, '.plexlift-scratch-'));
      return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) };
    } catch {
      tried.push(`${candidate} (not writable)`);
    }
  }
  const field = options.field ?? 'scratchDir';
  throw new PlexliftError(
    'DISK_FULL',
    `${field}: a scratch copy needs ${formatBytes(needed)}; no room in ${tried.join(', ')}. Point ${field} at a folder with enough free space`,
    { details: { field, neededBytes: needed } },
  );
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
