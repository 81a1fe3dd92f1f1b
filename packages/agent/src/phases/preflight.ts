import { PlexliftError } from '@plexlift/shared';
import { closeDatabase, openDatabaseReadOnly } from '@plexlift/shared/plex-db';
import { selectSections } from '../library/select-sections.js';
import { assertVisible, filesUnder, knownFiles, probeVisibility } from '../media/visibility-probe.js';
import { definePhase, type PhaseContext } from './phase.js';

type PreflightContext = PhaseContext<'plex' | 'mountSample'>;

/**
 * Before any scan: files the DB knows must be readable on the mount, section by section, or the
 * job stops (exit 6) before Plex can mark them deleted — the 221-of-224 failure. A `scan` job has
 * no DB yet: each library location must list and its files read, or the job would build an
 * empty library. A few readable files of each go to the mount supervisor's sample.
 */
export const preflight = definePhase({
  name: 'preflight',
  needs: ['plex', 'mountSample'],
  run: async (context) => (context.job.mode === 'scan' ? checkLocations(context) : checkKnownFiles(context)),
});

async function checkKnownFiles({ job, state, signal, progress }: PreflightContext): Promise<Record<string, unknown>> {
  const sections = selectSections(await state.plex.sections(signal), job.sections);
  const db = openDatabaseReadOnly(state.mainDb);
  const summary: Record<string, { sampled: number; missing: number }> = {};
  try {
    for (const [i, section] of sections.entries()) {
      const files = knownFiles(db, Number(section.key));
      const report = await probeVisibility(files, { signal });
      summary[section.title] = { sampled: report.sampled, missing: report.missing.length };
      assertVisible(report, { section: section.title, maxMissingPercent: state.maxMissingPercent ?? 5 });
      rememberReadable(state.mountSample, files, report.missing);
      progress({ percent: ((i + 1) * 100) / sections.length, message: `${section.title}: ${report.visible} of ${report.sampled} sampled files readable` });
    }
  } finally {
    closeDatabase(db);
  }
  return { sections: summary };
}

async function checkLocations({ job, state, signal, progress }: PreflightContext): Promise<Record<string, unknown>> {
  const summary: Record<string, { sampled: number; missing: number }> = {};
  for (const [i, library] of job.libraries.entries()) {
    const files = (await Promise.all(library.locations.map((location) => filesUnder(location)))).flat();
    if (files.length === 0) {
      throw new PlexliftError(
        'SAFETY_STOP',
        `library "${library.name}": no file found under ${library.locations.join(', ')} on the mount; a scan would build an empty library, so it does not start`,
        {
          details: { library: library.name, locations: library.locations },
        },
      );
    }
    const report = await probeVisibility(files, { signal });
    summary[library.name] = { sampled: report.sampled, missing: report.missing.length };
    assertVisible(report, { section: library.name, maxMissingPercent: state.maxMissingPercent ?? 5 });
    rememberReadable(state.mountSample, files, report.missing);
    progress({ percent: ((i + 1) * 100) / job.libraries.length, message: `${library.name}: ${report.visible} of ${report.sampled} sampled files readable` });
  }
  return { libraries: summary };
}

/** Two readable files of each section: what the mount supervisor reads from now on. */
function rememberReadable(sample: string[], files: string[], missing: { file: string }[]): void {
  const gone = new Set(missing.map((m) => m.file));
  sample.push(...files.filter((f) => !gone.has(f)).slice(0, 2));
}
