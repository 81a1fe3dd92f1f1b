import type { JobState } from '../job-state.js';
import { reportPlexOutput } from '../plex-output.js';
import { stopPlex } from '../stop-plex.js';
import type { Phase } from './phase.js';

/** Stops Plex as the image does and folds the WAL in, so no live DB is archived. */
export const plexStop: Phase<JobState> = {
  name: 'plex-stop',
  run: async ({ job, state, signal, report }) => {
    if (!state.runtime) throw new Error('plex-stop needs a Plex runtime');
    const { clean, output, checkpoint } = await stopPlex(state.runtime, state.mainDb, { version: job.plex.version, signal });
    delete state.plex;
    reportPlexOutput(report, output);
    if (checkpoint.fallback) report({ type: 'log', level: 'warn', message: `Plex SQLite could not checkpoint the DB, the bundled SQLite did: ${checkpoint.fallback}` });
    return { clean, checkpoint: checkpoint.by };
  },
};
