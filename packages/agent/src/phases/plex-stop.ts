import type { JobState } from '../job-state.js';
import { stopPlex } from '../stop-plex.js';
import type { Phase } from './phase.js';

/** Stops Plex as the image does and folds the WAL in, so no live DB is archived. */
export const plexStop: Phase<JobState> = {
  name: 'plex-stop',
  run: async ({ state }) => {
    if (!state.runtime) throw new Error('plex-stop needs a Plex runtime');
    const { clean } = await stopPlex(state.runtime, state.mainDb);
    delete state.plex;
    return { clean };
  },
};
