import { PlexliftError } from '@plexlift/shared';
import { checkIntegrity, findPlexDatabases, readDatabase, readLibraryStats, remapPaths, type LibraryStats } from '@plexlift/shared/plex-db';
import { archiveEntries } from '@plexlift/shared/archive';
import { definePhase } from './phase.js';

/**
 * Makes the stopped library ready to travel: paths mapped back to home's, both DBs checked. The
 * archive itself is produced by upload, chunk by chunk as it is sent.
 */
export const exportPhase = definePhase({
  name: 'export',
  run: async ({ job, state, signal }) => {
    if (job.mappings.length > 0)
      remapPaths(
        state.mainDb,
        job.mappings.map(({ from, to }) => ({ from: to, to: from })),
      );
    const { main, blobs } = findPlexDatabases(state.mainDb);
    for (const path of [main, blobs].filter((p): p is string => p !== undefined)) {
      const report = await checkIntegrity(path, { signal });
      if (!report.ok) {
        throw new PlexliftError('SAFETY_STOP', `the library DB to ship fails its integrity check (${report.problems[0] ?? ''}); nothing is sent home`, {
          details: { path, problems: report.problems },
        });
      }
    }
    // The counts of what ships: a job that waits for `plexlift install` shows them (the install
    // counts again at home before it touches anything).
    return { entries: archiveEntries(state.pmsDir), ...libraryOf(main) };
  },
});

/** The counts, when they can be read: they are for the report only, never a reason to stop. */
function libraryOf(main: string): { library?: LibraryStats } {
  try {
    return { library: readDatabase(main, readLibraryStats) };
  } catch {
    return {};
  }
}
