import { closeDatabase, openDatabaseReadOnly, readLibraryStats, type LibraryStats } from '@plexlift/shared/plex-db';
import type { PlexClient, PlexSection } from '@plexlift/shared/plex-api';
import { assertDeletionsWithinCap, checkDeletions } from '../deletion-guard.js';
import { waitUntilIdle, type IdleSample } from '../idle-waiter.js';
import type { JobState } from '../job-state.js';
import { selectSections } from '../select-sections.js';
import type { Phase } from './phase.js';

/**
 * Scans the sections strictly one after another, each until Plex is truly idle, then checks
 * what the scan lost against the deletion cap: over it the job stops (exit 6) and this library
 * is never shipped without `--allow-deletions`.
 */
export const scan: Phase<JobState> = {
  name: 'scan',
  run: async ({ job, state, signal, progress }) => {
    const plex = state.plex;
    if (!plex) throw new Error('scan needs plex-start to have run');
    state.sections ??= selectSections(await plex.sections(signal), job.sections);
    state.statsBefore ??= readStats(state.mainDb);
    const summary: Record<string, { before: number; lost: number; seconds: number }> = {};
    for (const [i, section] of state.sections.entries()) {
      const started = performance.now();
      progress({ percent: (i * 100) / state.sections.length, message: `scanning ${section.title}` });
      await plex.refresh(section.key, {}, signal);
      await waitUntilIdle(() => sample(plex, section, state), state.idle.scan, { signal, label: `the scan of "${section.title}"` });
      const before = state.statsBefore.sections.find((s) => s.id === Number(section.key));
      const after = readStats(state.mainDb).sections.find((s) => s.id === Number(section.key));
      if (before) {
        const check = checkDeletions(before, after, job.deletionCap);
        summary[section.title] = { before: check.before, lost: check.lost, seconds: Math.round((performance.now() - started) / 1000) };
        assertDeletionsWithinCap(check, { allowDeletions: job.allowDeletions });
      }
    }
    progress({ percent: 100 });
    return { sections: summary };
  },
};

async function sample(plex: PlexClient, section: PlexSection, state: JobState): Promise<IdleSample> {
  const [activities, sections, queue, cpu] = await Promise.all([plex.activities(), plex.sections(), plex.updateQueueSize(section.key), state.cpu?.read()]);
  return {
    // By type and section: the Butler's lingering activity is not this scan (trap 3).
    busyActivities: activities.filter(
      (a) => (a.type === 'library.update.section' || a.type === 'library.refresh.items') && (a.Context?.librarySectionID === undefined || a.Context.librarySectionID === section.key),
    ).length,
    refreshing: sections.find((s) => s.key === section.key)?.refreshing ?? false,
    updateQueueSize: queue,
    cpuPercent: cpu,
  };
}

function readStats(path: string): LibraryStats {
  const db = openDatabaseReadOnly(path);
  try {
    return readLibraryStats(db);
  } finally {
    closeDatabase(db);
  }
}
