import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PlexliftError } from '../errors.js';

export const MAIN_DB_NAME = 'com.plexapp.plugins.library.db';
export const BLOBS_DB_NAME = 'com.plexapp.plugins.library.blobs.db';

/** Where Plex keeps its databases, relative to its data dir (`…/Plex Media Server`). */
export const DATABASES_DIR = join('Plug-in Support', 'Databases');

/** The main library DB of a Plex data dir (`…/Plex Media Server`). */
export function mainDatabasePath(dataDir: string): string {
  return join(dataDir, DATABASES_DIR, MAIN_DB_NAME);
}

/** A SQLite file in WAL mode is three files; they are copied, moved and deleted together. */
export const SIDECAR_SUFFIXES = ['-wal', '-shm'] as const;

export interface PlexDatabaseFiles {
  main: string;
  /** The blobs DB beside the main one, when it exists. */
  blobs: string | undefined;
}

/** The database file and its WAL sidecars, in the order they must be copied. */
export function databaseFileSet(path: string): string[] {
  return [path, ...SIDECAR_SUFFIXES.map((suffix) => path + suffix)];
}

/**
 * Finds the blobs DB beside the main DB by its name. A dated PMS backup
 * (`…library.db-2024-01-01`) pairs with the blobs backup of the same date.
 */
export function findPlexDatabases(mainPath: string): PlexDatabaseFiles {
  assertSqliteFile(mainPath, 'DB');
  const name = basename(mainPath);
  const suffix = name.startsWith(MAIN_DB_NAME) ? name.slice(MAIN_DB_NAME.length) : '';
  const blobs = join(dirname(mainPath), BLOBS_DB_NAME + suffix);
  return { main: mainPath, blobs: existsSync(blobs) && blobs !== mainPath ? blobs : undefined };
}

const SQLITE_MAGIC = 'SQLite format 3\0';

/**
 * Fails with a message naming `field` unless `path` is an existing SQLite file.
 * Reads only the 16-byte header; never opens the file through SQLite.
 */
export function assertSqliteFile(path: string, field: string): void {
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) {
      throw new PlexliftError('PATH_INVALID', `${field}: ${path} is not a file`, { details: { field, path } });
    }
    size = stat.size;
  } catch (error) {
    if (error instanceof PlexliftError) throw error;
    throw new PlexliftError('PATH_INVALID', `${field}: ${path} does not exist or cannot be read`, {
      cause: error,
      details: { field, path },
    });
  }
  if (size === 0) {
    throw new PlexliftError('DATABASE_CORRUPT', `${field}: ${path} is empty (0 bytes), not a database`, {
      details: { field, path },
    });
  }
  const header = Buffer.alloc(16);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (header.toString('latin1') !== SQLITE_MAGIC) {
    throw new PlexliftError('DATABASE_CORRUPT', `${field}: ${path} is not a SQLite database (bad header)`, {
      details: { field, path },
    });
  }
}
