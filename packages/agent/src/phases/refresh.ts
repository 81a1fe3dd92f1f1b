import { waitUntilIdle } from '../monitors/idle-waiter.js';
import { readIdleSample } from '../monitors/section-idle.js';
import { definePhase } from './phase.js';

/**
 * `--force-refresh`: a full metadata refresh of each section, apart from and before Sonic. A
 * landing stops it at once: it names the sections whose refresh was finished.
 */
export const refresh = definePhase({
  name: 'refresh',
  needs: ['plex', 'sections'],
  applies: (job) => job.forceRefresh,
  landable: true,
  run: async ({ state, signal, landing, progress }) => {
    const { plex, sections } = state;
    const refreshed: string[] = [];
    try {
      for (const [i, section] of sections.entries()) {
        progress({ percent: (i * 100) / sections.length, message: `refreshing the metadata of ${section.title}` });
        await plex.refresh(section.key, { force: true }, signal);
        await waitUntilIdle(() => readIdleSample(plex, section, state.cpu), state.idle.refresh, { signal, label: `the refresh of "${section.title}"` });
        refreshed.push(section.title);
      }
    } catch (error) {
      if (!landing.aborted) throw error;
      return { sections: refreshed, landed: true };
    }
    return { sections: refreshed };
  },
});
