import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { PlexliftError } from '@plexlift/shared';
import { asDatabaseError } from '@plexlift/shared/plex-db';

export type StoreDatabase = Database.Database;

/**
 * The controller's state, one migration per schema version (`PRAGMA user_version` bumped in the
 * same transaction as its DDL). The partial unique index is safety rule 7: one live job per home
 * library, enforced by the database itself.
 */
const MIGRATIONS: string[] = [
  `CREATE TABLE jobs (
     id TEXT PRIMARY KEY,
     library TEXT NOT NULL,
     state TEXT NOT NULL,
     phase TEXT,
     version INTEGER NOT NULL DEFAULT 0,
     provider TEXT NOT NULL,
     spec_json TEXT NOT NULL,
     options_json TEXT NOT NULL,
     resource_json TEXT,
     error_code TEXT,
     error_message TEXT,
     report_json TEXT,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     finished_at INTEGER
   );
   CREATE UNIQUE INDEX jobs_one_live_per_library ON jobs(library) WHERE state NOT IN ('done', 'failed', 'aborted');
   CREATE TABLE phases (
     job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
     phase TEXT NOT NULL,
     state TEXT NOT NULL,
     started_at INTEGER,
     finished_at INTEGER,
     summary_json TEXT,
     PRIMARY KEY (job_id, phase)
   );
   CREATE TABLE events (
     id INTEGER PRIMARY KEY,
     job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
     key TEXT NOT NULL,
     at INTEGER NOT NULL,
     type TEXT NOT NULL,
     payload_json TEXT NOT NULL,
     UNIQUE (job_id, key)
   );
   CREATE TABLE commands (
     id INTEGER PRIMARY KEY,
     job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
     payload_json TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE tokens (
     hash TEXT PRIMARY KEY,
     job_id TEXT REFERENCES jobs(id) ON DELETE CASCADE,
     kind TEXT NOT NULL,
     expires_at INTEGER,
     used_at INTEGER
   );
   CREATE TABLE transfers (
     id TEXT PRIMARY KEY,
     job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
     direction TEXT NOT NULL,
     state TEXT NOT NULL,
     chunks INTEGER,
     bytes INTEGER,
     sha256 TEXT,
     path TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     completed_at INTEGER
   );
   CREATE TABLE transfer_chunks (
     transfer_id TEXT NOT NULL REFERENCES transfers(id) ON DELETE CASCADE,
     idx INTEGER NOT NULL,
     sha256 TEXT NOT NULL,
     bytes INTEGER NOT NULL,
     PRIMARY KEY (transfer_id, idx)
   );`,
  // Scheduled bursts: one row per firing of a `schedule` entry (its start time), so a restarted
  // daemon never starts the same window twice. A pruned job leaves its firing's row, unlinked.
  `CREATE TABLE schedule_firings (
     id INTEGER PRIMARY KEY,
     entry TEXT NOT NULL,
     firing_at INTEGER NOT NULL,
     outcome TEXT NOT NULL,
     job_id TEXT REFERENCES jobs(id) ON DELETE SET NULL,
     detail TEXT NOT NULL,
     recorded_at INTEGER NOT NULL,
     UNIQUE (entry, firing_at)
   );`,
];

/**
 * Opens (and migrates) the store: WAL so the CLI's reads never block the daemon, and
 * `synchronous = FULL` set explicitly (better-sqlite3's WAL default is NORMAL, which may lose the
 * last commits on power loss: "the archive is safe, delete the VM" must survive one).
 */
export function openStoreDatabase(path: string): StoreDatabase {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new Database(path);
  try {
    checkStore(db, path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    const version = db.pragma('user_version', { simple: true }) as number;
    for (const [i, sql] of MIGRATIONS.entries()) {
      if (i < version) continue;
      db.transaction(() => {
        db.exec(sql);
        db.pragma(`user_version = ${i + 1}`);
      })();
    }
  } catch (error) {
    db.close();
    throw asDatabaseError(error, path, STORE_FIELD);
  }
  return db;
}

const STORE_FIELD = 'job store';

/**
 * A damaged store is refused at start-up rather than found by the first request that reads a
 * damaged page (a daemon that answers /healthz but loses jobs). `quick_check` reads every page
 * in O(N): milliseconds for a store of a few MB.
 */
function checkStore(db: StoreDatabase, path: string): void {
  const problems = db.pragma('quick_check(5)', { simple: false }) as { quick_check: string }[];
  const found = problems.map((row) => row.quick_check).filter((line) => line !== 'ok');
  if (found.length === 0) return;
  throw new PlexliftError(
    'DATABASE_CORRUPT',
    `${STORE_FIELD}: ${path} is damaged (${found.join('; ')}); plexlift does not start on it. ` +
      'Stop here, move the file aside (keep it: it lists the cloud machines of jobs under way) and start again with an empty store, then plexlift vms lists what is left in the cloud',
    { details: { field: STORE_FIELD, path, problems: found } },
  );
}
