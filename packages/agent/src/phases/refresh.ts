import { waitUntilIdle } from '../idle-waiter.js';
import type { JobState } from '../job-state.js';
import { readIdleSample } from '../section-idle.js';
import { selectSections } from '../select-sections.js';
import type { Phase } from './phase.js';

/** `--force-refresh`: a full metadata refresh of each section, apart from and before Sonic. */
export const refresh: Phase<JobState> = {
  name: 'refresh',
  applies: (job) => job.forceRefresh,
  run: async ({ job, state, signal, progress }) => {
    const plex = state.plex;
    if (!plex) throw new Error('refresh needs plex-start to have run');
    state.sections ??= selectSections(await plex.sections(signal), job.sections);
    for (const [i, section] of state.sections.entries()) {
      progress({ percent: (i * 100) / state.sections.length, message: `refreshing the metadata of ${section.title}` });
      await plex.refresh(section.key, { force: true }, signal);
      await waitUntilIdle(() => readIdleSample(plex, section, state), state.idle.refresh, { signal, label: `the refresh of "${section.title}"` });
    }
    return { sections: state.sections.map((s) => s.title) };
  },
};
