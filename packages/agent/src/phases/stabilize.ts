import { waitUntilIdle } from '../idle-waiter.js';
import type { JobState } from '../job-state.js';
import { readIdleSample } from '../section-idle.js';
import type { Phase } from './phase.js';

/** Before Sonic: the whole server idle — background work finished, not just triggers answered. */
export const stabilize: Phase<JobState> = {
  name: 'stabilize',
  run: async ({ state, signal }) => {
    const plex = state.plex;
    if (!plex) throw new Error('stabilize needs plex-start to have run');
    const result = await waitUntilIdle(() => readIdleSample(plex, undefined, state), state.idle.analyze, { signal, label: 'Plex' });
    return { samples: result.samples, sawWork: result.sawWork };
  },
};
