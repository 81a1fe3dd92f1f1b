import { reportPlexOutput } from '../plex/plex-output.js';
import { stopPlex } from '../plex/stop-plex.js';
import { definePhase } from './phase.js';

/** Stops Plex as the image does and folds the WAL in, so no live DB is archived. */
export const plexStop = definePhase({
  name: 'plex-stop',
  run: async ({ job, state, signal, report }) => {
    const { clean, output, checkpoint } = await stopPlex(state.runtime, state.mainDb, { version: job.plex.version, signal });
    reportPlexOutput(report, output);
    if (checkpoint.fallback)
      report({ type: 'log', level: 'warn', message: `Plex SQLite could not checkpoint the DB, the bundled SQLite did: ${checkpoint.fallback}` });
    return { clean, checkpoint: checkpoint.by };
  },
});
