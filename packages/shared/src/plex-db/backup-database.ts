import { rmSync } from 'node:fs';
import { databaseFileSet } from './database-files.js';
import { asDatabaseError, openDatabaseReadOnly } from './open-database.js';

export interface CopyProgress {
  totalPages: number;
  copiedPages: number;
}

export interface BackupOptions {
  /** Called after each step of the copy. */
  onProgress?: (progress: CopyProgress) => void;
  /** Pages copied per step; the source is read-locked only during a step. */
  pagesPerStep?: number;
  signal?: AbortSignal;
}

/**
 * Copies a DB with SQLite's online backup API: a consistent snapshot, safe while Plex Media
 * Server runs, and byte-level (no collation or tokenizer needed, plex-db.md §5.4). The copy is
 * a single file: the WAL is folded in. Stale sidecars next to `dest` are removed first, or
 * SQLite would replay them into the copy.
 */
export async function backupDatabase(source: string, dest: string, options: BackupOptions = {}): Promise<void> {
  for (const file of databaseFileSet(dest)) rmSync(file, { force: true });
  const db = openDatabaseReadOnly(source);
  try {
    options.signal?.throwIfAborted();
    await db.backup(dest, {
      progress: ({ totalPages, remainingPages }) => {
        options.onProgress?.({ totalPages, copiedPages: totalPages - remainingPages });
        // Throwing here is how better-sqlite3 abandons a backup (returning 0 only pauses it).
        options.signal?.throwIfAborted();
        return options.pagesPerStep ?? 4096;
      },
    });
    options.signal?.throwIfAborted();
  } catch (error) {
    for (const file of databaseFileSet(dest)) rmSync(file, { force: true });
    if (options.signal?.aborted) throw options.signal.reason;
    throw asDatabaseError(error, source, 'DB');
  } finally {
    db.close();
  }
}
