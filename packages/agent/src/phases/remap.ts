import { remapPaths } from '@plexlift/shared/plex-db';
import { definePhase } from './phase.js';

/** Home → cloud path mappings, anchored, in one pass, verified (the toolkit's remap). */
export const remap = definePhase({
  name: 'remap',
  applies: (job) => job.mappings.length > 0,
  run: ({ job, state }) => {
    const report = remapPaths(state.mainDb, job.mappings);
    return Promise.resolve({ rows: report.rows, columns: Object.fromEntries(report.columns.map((c) => [`${c.table}.${c.column}`, c.rows])) });
  },
});
