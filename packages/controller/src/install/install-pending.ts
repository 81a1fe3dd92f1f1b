import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PlexliftError } from '@plexlift/shared';
import Database from 'better-sqlite3';
import { JobStore, type JobRecord } from '../store/job-store.js';

/**
 * The live job that is installing into home Plex, or will once its work is home (every live job
 * but one tearing down or one run with --no-install): a rollback now would be undone by it.
 * Read from the daemon's store, so it holds whether the daemon runs or not.
 */
export function pendingInstall(stateDir: string): JobRecord | undefined {
  const path = join(stateDir, 'plexlift.db');
  if (!existsSync(path)) return undefined;
  // Read-only: the daemon's store is the daemon's (a newer CLI never migrates it under it).
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return new JobStore(db).live().find((job) => job.state === 'installing' || (job.state !== 'tearing-down' && !job.options.noInstall));
  } finally {
    db.close();
  }
}

/**
 * Refuses `what` while a job is installing, or (`orPending`) will install; changes nothing. A
 * rollback now would be undone by the job; a prune could remove the backup it is making.
 */
export function assertNoInstall(stateDir: string, what: string, options: { orPending: boolean }): void {
  const job = pendingInstall(stateDir);
  if (!job || (!options.orPending && job.state !== 'installing')) return;
  const when =
    job.state === 'installing' ? 'is installing its library into home Plex now' : `will install its library into home Plex when it ends (it is ${job.state})`;
  throw new PlexliftError('SAFETY_STOP', `${what} refused: job ${job.id} ${when}; wait for it to end, or plexlift abort ${job.id} first. Nothing was changed`, {
    details: { jobId: job.id, state: job.state },
  });
}
