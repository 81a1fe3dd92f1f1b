import { waitUntilIdle } from '../monitors/idle-waiter.js';
import { readIdleSample } from '../monitors/section-idle.js';
import { definePhase } from './phase.js';

/** Before Sonic: the whole server idle — background work finished, not just triggers answered. */
export const stabilize = definePhase({
  name: 'stabilize',
  needs: ['plex'],
  landable: true,
  run: async ({ state, signal }) => {
    const result = await waitUntilIdle(() => readIdleSample(state.plex, undefined, state.cpu), state.idle.analyze, { signal, label: 'Plex' });
    return { samples: result.samples, sawWork: result.sawWork };
  },
});
