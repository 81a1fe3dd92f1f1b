import { closeDatabase, openDatabaseReadOnly } from '@plexlift/shared/plex-db';
import { knownFiles } from '../media/visibility-probe.js';
import { warmFiles } from '../media/warm.js';
import { definePhase } from './phase.js';

/**
 * Before analysis, reads the head of every file of each section through the mount, so the
 * analysers meet a warm VFS cache; stale paths (renamed in the bucket) are counted apart from
 * mount errors, because they are the library's problem, not the mount's. A landing stops it
 * at once, with the counts of the sections warmed so far and how far the current one got.
 */
export const warm = definePhase({
  name: 'warm',
  needs: ['sections'],
  applies: (job) => !job.skipAnalysis,
  landable: true,
  run: async ({ state, signal, landing, progress }) => {
    const summary: Record<string, { total: number; warmed: number; errors: number; stale: number }> = {};
    let current: { section: string; done: number; total: number } | undefined;
    // Every section's files first: the percent is over the whole phase, not reset per section.
    const db = openDatabaseReadOnly(state.mainDb);
    let filesOf: string[][];
    try {
      filesOf = state.sections.map((section) => knownFiles(db, Number(section.key)));
    } finally {
      closeDatabase(db);
    }
    const total = filesOf.reduce((n, files) => n + files.length, 0);
    let before = 0;
    try {
      for (const [i, section] of state.sections.entries()) {
        const files = filesOf[i]!;
        const report = await warmFiles(files, {
          signal,
          onProgress: (p) => {
            current = { section: section.title, done: p.done, total: p.total };
            progress({
              percent: (100 * (before + p.done)) / Math.max(1, total),
              rate: { value: Math.round(p.filesPerSecond), unit: 'files/s' },
              message: `${section.title}: ${p.done} of ${p.total}`,
            });
          },
        });
        before += files.length;
        summary[section.title] = { total: report.total, warmed: report.warmed, errors: report.errors.length, stale: report.stale.length };
        current = undefined;
      }
    } catch (error) {
      if (!landing.aborted) throw error;
      return { sections: summary, ...(current ? { current } : {}), landed: true };
    }
    return { sections: summary };
  },
});
