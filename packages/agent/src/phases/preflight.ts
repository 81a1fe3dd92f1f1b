import { PlexliftError } from '@plexlift/shared';
import { closeDatabase, openDatabaseReadOnly } from '@plexlift/shared/plex-db';
import type { JobState } from '../job-state.js';
import { selectSections } from '../select-sections.js';
import { assertVisible, filesUnder, knownFiles, probeVisibility } from '../visibility-probe.js';
import type { Phase, PhaseContext } from './phase.js';

/**
 * Before any scan: files the DB knows must be readable on the mount, section by section, or the
 * job stops (exit 6) before Plex can mark them deleted — the 221-of-224 failure. A `scan` job has
 * no DB yet: each library location must list and its files read, or the job would build an
 * empty library.
 */
export const preflight: Phase<JobState> = {
  name: 'preflight',
  run: async (context) => (context.job.mode === 'scan' ? checkLocations(context) : checkKnownFiles(context)),
};

async function checkKnownFiles({ job, state, signal, progress }: PhaseContext<JobState>): Promise<Record<string, unknown>> {
  if (!state.plex) throw new Error('preflight needs plex-start to have run');
  state.sections ??= selectSections(await state.plex.sections(signal), job.sections);
  const db = openDatabaseReadOnly(state.mainDb);
  const summary: Record<string, { sampled: number; missing: number }> = {};
  try {
    for (const [i, section] of state.sections.entries()) {
      const files = knownFiles(db, Number(section.key));
      const report = await probeVisibility(files, { signal });
      summary[section.title] = { sampled: report.sampled, missing: report.missing.length };
      assertVisible(report, { section: section.title, maxMissingPercent: state.maxMissingPercent ?? 5 });
      rememberReadable(state, files, report.missing);
      progress({ percent: ((i + 1) * 100) / state.sections.length, message: `${section.title}: ${report.visible} of ${report.sampled} sampled files readable` });
    }
  } finally {
    closeDatabase(db);
  }
  return { sections: summary };
}

async function checkLocations({ job, state, signal, progress }: PhaseContext<JobState>): Promise<Record<string, unknown>> {
  const summary: Record<string, { sampled: number; missing: number }> = {};
  for (const [i, library] of job.libraries.entries()) {
    const files = (await Promise.all(library.locations.map((location) => filesUnder(location)))).flat();
    if (files.length === 0) {
      throw new PlexliftError('SAFETY_STOP', `library "${library.name}": no file found under ${library.locations.join(', ')} on the mount; a scan would build an empty library, so it does not start`, {
        details: { library: library.name, locations: library.locations },
      });
    }
    const report = await probeVisibility(files, { signal });
    summary[library.name] = { sampled: report.sampled, missing: report.missing.length };
    assertVisible(report, { section: library.name, maxMissingPercent: state.maxMissingPercent ?? 5 });
    rememberReadable(state, files, report.missing);
    progress({ percent: ((i + 1) * 100) / job.libraries.length, message: `${library.name}: ${report.visible} of ${report.sampled} sampled files readable` });
  }
  return { libraries: summary };
}

/** A few readable files of each section: what the mount supervisor reads from now on. */
function rememberReadable(state: JobState, files: string[], missing: { file: string }[]): void {
  const gone = new Set(missing.map((m) => m.file));
  state.mountSample = [...(state.mountSample ?? []), ...files.filter((f) => !gone.has(f)).slice(0, 2)];
}
