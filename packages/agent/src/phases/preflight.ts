import { closeDatabase, openDatabaseReadOnly } from '@plexlift/shared/plex-db';
import type { JobState } from '../job-state.js';
import { selectSections } from '../select-sections.js';
import { assertVisible, knownFiles, probeVisibility } from '../visibility-probe.js';
import type { Phase } from './phase.js';

/**
 * Before any scan: files the DB knows must be readable on the mount, section by section, or the
 * job stops (exit 6) before Plex can mark them deleted — the 221-of-224 failure.
 */
export const preflight: Phase<JobState> = {
  name: 'preflight',
  run: async ({ job, state, signal, progress }) => {
    if (!state.plex) throw new Error('preflight needs plex-start to have run');
    state.sections ??= selectSections(await state.plex.sections(signal), job.sections);
    const db = openDatabaseReadOnly(state.mainDb);
    const summary: Record<string, { sampled: number; missing: number }> = {};
    try {
      for (const [i, section] of state.sections.entries()) {
        const report = await probeVisibility(knownFiles(db, Number(section.key)), { signal });
        summary[section.title] = { sampled: report.sampled, missing: report.missing.length };
        assertVisible(report, { section: section.title, maxMissingPercent: state.maxMissingPercent ?? 5 });
        progress({ percent: ((i + 1) * 100) / state.sections.length, message: `${section.title}: ${report.visible} of ${report.sampled} sampled files readable` });
      }
    } finally {
      closeDatabase(db);
    }
    return { sections: summary };
  },
};
