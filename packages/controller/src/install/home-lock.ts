import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PlexliftError } from '@plexlift/shared';

/**
 * A rollback's hold on home Plex across processes: `plexlift rollback` runs without the daemon,
 * the dashboard's runs in it, and `backups prune` could delete the backup being put back. The
 * lock is a file made exclusively in the state folder, naming its process; one whose process is
 * gone (a kill, a power cut) is stale and taken over.
 */
interface LockHolder {
  pid: number;
  what: string;
  at: string;
}

function lockPath(stateDir: string): string {
  return join(stateDir, 'home.lock');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, as another user's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Who holds home now, if a live process does. */
export function homeLockHolder(stateDir: string): LockHolder | undefined {
  let holder: LockHolder;
  try {
    holder = JSON.parse(readFileSync(lockPath(stateDir), 'utf8')) as LockHolder;
  } catch {
    return undefined; // none, or one cut off while written: its process died with it
  }
  return Number.isInteger(holder.pid) && isAlive(holder.pid) ? holder : undefined;
}

/** Refuses `what` while another process holds home; changes nothing. */
export function assertHomeUnlocked(stateDir: string, what: string): void {
  const holder = homeLockHolder(stateDir);
  if (holder)
    throw new PlexliftError('SAFETY_STOP', `${what} refused: ${holder.what} is under way (process ${holder.pid}, since ${holder.at}); nothing was changed`, {
      details: { busy: holder.what, pid: holder.pid },
    });
}

/** Runs `work` holding home; refused while a live process holds it. */
export async function withHomeLock<T>(stateDir: string, what: string, work: () => Promise<T>): Promise<T> {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const path = lockPath(stateDir);
  let fd: number | undefined;
  for (let attempt = 0; fd === undefined; attempt++) {
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      assertHomeUnlocked(stateDir, what);
      if (attempt > 0) throw new PlexliftError('SAFETY_STOP', `${what} refused: another process took home Plex meanwhile; nothing was changed`);
      rmSync(path, { force: true }); // stale: its process is gone
    }
  }
  try {
    writeSync(fd, JSON.stringify({ pid: process.pid, what, at: new Date().toISOString() } satisfies LockHolder));
  } finally {
    closeSync(fd);
  }
  try {
    return await work();
  } finally {
    rmSync(path, { force: true });
  }
}
