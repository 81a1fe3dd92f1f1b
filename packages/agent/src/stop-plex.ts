import { closeDatabase, findPlexDatabases, openDatabaseForWrite } from '@plexlift/shared/plex-db';
import type { PlexRuntime } from './plex-runtime.js';

/**
 * The plex-stop phase's work: stop Plex as the image does, then fold each DB's WAL into its
 * file so no live or half-written DB is ever archived (a killed Plex leaves `-wal`/`-shm`).
 */
export async function stopPlex(runtime: PlexRuntime, mainDb: string, options: { graceMs?: number } = {}): Promise<{ clean: boolean }> {
  const { clean } = await runtime.stop(options);
  const { main, blobs } = findPlexDatabases(mainDb);
  for (const path of [main, blobs].filter((p): p is string => p !== undefined)) closeDatabase(openDatabaseForWrite(path));
  return { clean };
}
