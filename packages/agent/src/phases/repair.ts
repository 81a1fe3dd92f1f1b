import { renameSync, rmSync } from 'node:fs';
import { checkIntegrity, databaseFileSet, findPlexDatabases, repairDatabase } from '@plexlift/shared/plex-db';
import type { JobState } from '../job-state.js';
import type { Phase } from './phase.js';

/**
 * Checks the restored DBs and, when one is corrupt, recovers it into a new file and swaps it in,
 * keeping the damaged one beside it; the row counts before and after go into the report.
 */
export const repair: Phase<JobState> = {
  name: 'repair',
  applies: (job) => job.mode === 'delta',
  run: async ({ state, signal }) => {
    const { main, blobs } = findPlexDatabases(state.mainDb);
    const summary: Record<string, unknown> = {};
    for (const path of [main, blobs].filter((p): p is string => p !== undefined)) {
      const report = await checkIntegrity(path, { signal });
      if (report.ok) {
        summary[path] = 'ok';
        continue;
      }
      const repaired = await repairDatabase(path, { out: `${path}.repaired`, signal });
      renameSync(path, `${path}.corrupt`);
      for (const sidecar of databaseFileSet(path).slice(1)) rmSync(sidecar, { force: true });
      renameSync(`${path}.repaired`, path);
      summary[path] = { repaired: true, rowsLost: repaired.rowsLost, tables: repaired.tables.filter((t) => t.lost > 0), schemaLost: repaired.schemaLost.map((o) => o.name) };
    }
    return summary;
  },
};
