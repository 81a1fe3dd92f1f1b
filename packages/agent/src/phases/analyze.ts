import { waitUntilIdle } from '../idle-waiter.js';
import type { JobState } from '../job-state.js';
import { readIdleSample } from '../section-idle.js';
import { selectSections } from '../select-sections.js';
import type { Phase } from './phase.js';

/** Media analysis, section after section, each until Plex is idle again. Never with a force flag. */
export const analyze: Phase<JobState> = {
  name: 'analyze',
  applies: (job) => !job.skipAnalysis,
  run: async ({ job, state, signal, progress }) => {
    const plex = state.plex;
    if (!plex) throw new Error('analyze needs plex-start to have run');
    state.sections ??= selectSections(await plex.sections(signal), job.sections);
    for (const [i, section] of state.sections.entries()) {
      progress({ percent: (i * 100) / state.sections.length, message: `analysing ${section.title}` });
      await plex.analyze(section.key, signal);
      await waitUntilIdle(() => readIdleSample(plex, section, state), state.idle.analyze, { signal, label: `the analysis of "${section.title}"` });
    }
    return { sections: state.sections.map((s) => s.title) };
  },
};
