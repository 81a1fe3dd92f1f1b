import { renameSync, rmSync } from 'node:fs';
import {
  checkIntegrity,
  databaseFileSet,
  findPlexDatabases,
  findRecoveryEngine,
  repairDatabase,
  testRecoveryEngine,
  type RecoveryEngine,
} from '@plexlift/shared/plex-db';
import type { PlexRuntime } from '../plex/plex-runtime.js';
import { definePhase } from './phase.js';

/**
 * Checks the restored DBs and, when one is corrupt, recovers it into a new file and swaps it in,
 * keeping the damaged one beside it; the row counts before and after go into the report. The
 * recovery runs in Plex's own `Plex SQLite` (in the image) when the runtime can run it: only
 * that shell keeps Plex's FTS tables and collated indexes.
 */
export const repair = definePhase({
  name: 'repair',
  applies: (job) => job.mode === 'delta',
  run: async ({ job, state, signal, report }) => {
    const { main, blobs } = findPlexDatabases(state.mainDb);
    const summary: Record<string, unknown> = {};
    let chosen: ChosenEngine | undefined;
    for (const path of [main, blobs].filter((p): p is string => p !== undefined)) {
      const check = await checkIntegrity(path, { signal });
      if (check.ok) {
        summary[path] = 'ok';
        continue;
      }
      chosen ??= await chooseEngine(state.runtime, job.plex.version, signal, (message) => report({ type: 'log', level: 'warn', message }));
      const { engine, scratchDir } = chosen;
      const repaired = await repairDatabase(path, { out: `${path}.repaired`, engine, scratchDir, signal });
      renameSync(path, `${path}.corrupt`);
      for (const sidecar of databaseFileSet(path).slice(1)) rmSync(sidecar, { force: true });
      renameSync(`${path}.repaired`, path);
      summary[path] = {
        repaired: true,
        engine: engine.source,
        rowsLost: repaired.rowsLost,
        tables: repaired.tables.filter((t) => t.lost > 0),
        schemaLost: repaired.schemaLost.map((o) => o.name),
      };
    }
    return summary;
  },
});

interface ChosenEngine {
  engine: RecoveryEngine;
  /** Where the copy it works on goes: a folder a shell in a container sees. */
  scratchDir?: string | undefined;
}

/** Plex SQLite in the runtime's image when it passes its self-test, else the best shell here. */
async function chooseEngine(runtime: PlexRuntime, version: string, signal: AbortSignal, warn: (message: string) => void): Promise<ChosenEngine> {
  if (runtime.plexSqlite) {
    try {
      const shell = await runtime.plexSqlite(version, { signal });
      const engine = await testRecoveryEngine({ kind: 'plex-sqlite', command: shell.command, source: shell.source }, { scratchDir: shell.scratchDir });
      return { engine, scratchDir: shell.scratchDir };
    } catch (error) {
      signal.throwIfAborted();
      warn(`${(error as Error).message}; recovering with the SQLite shell found on this machine instead (what it cannot re-create is listed under schemaLost)`);
    }
  }
  return { engine: await findRecoveryEngine() };
}
