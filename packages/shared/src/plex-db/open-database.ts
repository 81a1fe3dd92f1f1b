import Database from 'better-sqlite3';
import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { PlexliftError } from '../errors.js';
import { assertSqliteFile, databaseFileSet } from './database-files.js';

export type SqliteDatabase = Database.Database;

/**
 * Opens a Plex DB for reading. Safe while Plex runs: WAL readers never block its writers.
 * A read-only connection leaves `-wal`/`-shm` behind on close (SQLite's WAL rules), which is
 * what a running Plex expects.
 */
export function openDatabaseReadOnly(path: string, field = 'DB'): SqliteDatabase {
  assertSqliteFile(path, field);
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    db.pragma('query_only = ON');
    // Touch the schema now so a damaged page 1 fails here, with the file named.
    db.prepare('SELECT count(*) FROM sqlite_schema').get();
    return db;
  } catch (error) {
    throw asDatabaseError(error, path, field);
  }
}

export interface OpenForWriteOptions {
  field?: string;
}

/**
 * Opens a Plex DB for writing, only when nobody else holds it: writing under a running Plex
 * Media Server corrupts its DB (plex-db.md §5.3). The connection keeps an exclusive lock until
 * it is closed with {@link closeDatabase}, so Plex cannot start in the middle of a write, and
 * the WAL is folded into the main file first so the file on disk is self-contained.
 */
export function openDatabaseForWrite(path: string, options: OpenForWriteOptions = {}): SqliteDatabase {
  const field = options.field ?? 'DB';
  assertSqliteFile(path, field);
  const holders = findProcessesHolding(databaseFileSet(path));
  if (holders.length > 0) {
    const who = holders.map((h) => `${h.command} (pid ${h.pid})`).join(', ');
    throw new PlexliftError('DATABASE_IN_USE', `${field}: ${path} is open in ${who}; stop Plex Media Server before changing its database`, {
      details: { field, path, holders },
    });
  }
  let db: SqliteDatabase;
  try {
    db = new Database(path, { fileMustExist: true });
  } catch (error) {
    throw asDatabaseError(error, path, field);
  }
  try {
    db.pragma('busy_timeout = 0');
    // Set before the first access so no shared-memory wal-index is used and the lock is held
    // for the life of the connection.
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE; COMMIT');
    db.pragma('wal_checkpoint(TRUNCATE)');
    return db;
  } catch (error) {
    db.close();
    if (isSqliteCode(error, 'SQLITE_BUSY') || isSqliteCode(error, 'SQLITE_LOCKED')) {
      throw new PlexliftError(
        'DATABASE_IN_USE',
        `${field}: ${path} is locked by another connection (is Plex Media Server running?); stop it before changing its database`,
        { cause: error, details: { field, path } },
      );
    }
    throw asDatabaseError(error, path, field);
  }
}

/** Opens a Plex DB read-only, reads it with `read`, and closes it whatever happens. */
export function readDatabase<T>(path: string, read: (db: SqliteDatabase) => T, field = 'DB'): T {
  const db = openDatabaseReadOnly(path, field);
  try {
    return read(db);
  } finally {
    closeDatabase(db);
  }
}

/** Folds the WAL back into the main file (when writable) and closes the connection. */
export function closeDatabase(db: SqliteDatabase): void {
  if (!db.open) return;
  try {
    if (!db.readonly) db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

export interface ProcessHolding {
  pid: number;
  command: string;
}

/** Processes with one of `paths` open (Linux `/proc`; empty where it cannot be read). */
export function findProcessesHolding(paths: string[]): ProcessHolding[] {
  const targets = new Set<string>();
  for (const path of paths) {
    try {
      targets.add(realpathSync(path));
    } catch {
      // a sidecar that does not exist cannot be held
    }
  }
  return findProcessesWithOpenFile((target) => targets.has(target)).filter((p) => p.pid !== process.pid);
}

/** Processes (this one included) with an open file whose path `matches` (Linux `/proc`). */
export function findProcessesWithOpenFile(matches: (path: string) => boolean): ProcessHolding[] {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  const holders: ProcessHolding[] = [];
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    const holds = fds.some((fd) => {
      try {
        return matches(readlinkSync(`/proc/${pid}/fd/${fd}`));
      } catch {
        return false;
      }
    });
    if (holds) holders.push({ pid: Number(pid), command: readCommand(pid) });
  }
  return holders;
}

function readCommand(pid: string): string {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    return argv.length > 0 ? argv.join(' ') : readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return 'unknown process';
  }
}

export function isSqliteCode(error: unknown, code: string): boolean {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' && error.code.startsWith(code);
}

/** Maps SQLite's errors on open to messages that name the file. */
export function asDatabaseError(error: unknown, path: string, field: string): PlexliftError {
  if (error instanceof PlexliftError) return error;
  if (isSqliteCode(error, 'SQLITE_CORRUPT') || isSqliteCode(error, 'SQLITE_NOTADB')) {
    return new PlexliftError('DATABASE_CORRUPT', `${field}: ${path} is damaged: ${(error as Error).message}`, {
      cause: error,
      details: { field, path },
    });
  }
  if (isSqliteCode(error, 'SQLITE_CANTOPEN') || isSqliteCode(error, 'SQLITE_READONLY')) {
    return new PlexliftError(
      'PATH_INVALID',
      `${field}: cannot open ${path} (${(error as Error).message}); check that the file and its folder are readable and, for writes, writable`,
      { cause: error, details: { field, path } },
    );
  }
  return new PlexliftError('UNEXPECTED', `${field}: ${path}: ${(error as Error).message}`, { cause: error });
}
