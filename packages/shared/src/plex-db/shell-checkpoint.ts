import { statSync } from 'node:fs';
import { PlexliftError } from '../errors.js';
import { firstLine, runSqliteShell, type SqliteShellCommand } from './sqlite-shell.js';

export interface ShellCheckpoint {
  /** Bytes of `-wal` before and after (0 when there is none). */
  walBytesBefore: number;
  walBytesAfter: number;
}

/**
 * Folds a DB's write-ahead log into the file with a SQLite shell (`Plex SQLite` in Plex's own
 * image, which knows Plex's collations and tokenizer), as `PRAGMA wal_checkpoint(TRUNCATE)`.
 * A busy result (another process still has the DB) or a failed shell is an error: the caller
 * decides whether another way is safe.
 */
export async function checkpointWithShell(command: SqliteShellCommand, db: string, options: { signal?: AbortSignal } = {}): Promise<ShellCheckpoint> {
  const walBytesBefore = walBytes(db);
  const result = await runSqliteShell(command, [db, 'PRAGMA wal_checkpoint(TRUNCATE);'], options);
  if (result.code !== 0) {
    throw new PlexliftError(
      'RECOVERY_ENGINE_UNAVAILABLE',
      `${command.join(' ')} could not checkpoint ${db}: ${firstLine(result.stderr) || `exit ${result.code}`}`,
      { details: { db } },
    );
  }
  // One row: busy | frames in the log | frames checkpointed.
  const [busy] = firstLine(result.stdout).split('|').map(Number);
  if (busy !== 0) {
    throw new PlexliftError('DATABASE_IN_USE', `the checkpoint of ${db} was blocked: another process still has it open`, {
      details: { db, answer: firstLine(result.stdout) },
    });
  }
  return { walBytesBefore, walBytesAfter: walBytes(db) };
}

function walBytes(db: string): number {
  try {
    return statSync(`${db}-wal`).size;
  } catch {
    return 0;
  }
}
