import { checkpointWithShell, closeDatabase, findPlexDatabases, openDatabaseForWrite } from '@plexlift/shared/plex-db';
import type { PlexRuntime } from './plex-runtime.js';

export interface StopPlexOptions {
  graceMs?: number;
  /** Plex's version: with it, a runtime that can run `Plex SQLite` checkpoints with it. */
  version?: string;
  signal?: AbortSignal;
}

export interface StoppedPlex {
  clean: boolean;
  /** What Plex printed (secrets masked). */
  output?: string[];
  /** Which shell folded the WAL in, and why Plex's own could not when it could not. */
  checkpoint: { by: string; fallback?: string };
}

/**
 * The plex-stop phase's work: stop Plex as the image does, then fold each DB's WAL into its
 * file so no live or half-written DB is ever archived (a killed Plex leaves `-wal`/`-shm`).
 * Plex's own `Plex SQLite` does it when the runtime can run it; the bundled SQLite otherwise
 * (a checkpoint copies pages, it needs none of Plex's collations).
 */
export async function stopPlex(runtime: PlexRuntime, mainDb: string, options: StopPlexOptions = {}): Promise<StoppedPlex> {
  const { clean, output } = await runtime.stop(options.graceMs === undefined ? {} : { graceMs: options.graceMs });
  const { main, blobs } = findPlexDatabases(mainDb);
  const databases = [main, blobs].filter((p): p is string => p !== undefined);
  let fallback: string | undefined;
  if (runtime.plexSqlite && options.version) {
    try {
      const shell = await runtime.plexSqlite(options.version, options.signal ? { signal: options.signal } : {});
      for (const path of databases) await checkpointWithShell(shell.command, path, options.signal ? { signal: options.signal } : {});
      return { clean, ...(output ? { output } : {}), checkpoint: { by: shell.source } };
    } catch (error) {
      options.signal?.throwIfAborted();
      fallback = (error as Error).message;
    }
  }
  for (const path of databases) closeDatabase(openDatabaseForWrite(path));
  return { clean, ...(output ? { output } : {}), checkpoint: { by: 'bundled SQLite', ...(fallback ? { fallback } : {}) } };
}
