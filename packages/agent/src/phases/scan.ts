import { PlexliftError } from '@plexlift/shared';
import { readDatabase, readLibraryStats, type LibraryStats } from '@plexlift/shared/plex-db';
import { SECTION_AGENTS, type PlexClient, type PlexSection } from '@plexlift/shared/plex-api';
import type { JobSpec } from '@plexlift/shared/protocol';
import { assertDeletionsWithinCap, checkDeletions } from '../library/deletion-guard.js';
import { waitUntilIdle, type IdleSample } from '../monitors/idle-waiter.js';
import type { CpuMonitor } from '../monitors/cpu-monitor.js';
import { SCAN_WORK, watchSectionProgress } from '../monitors/section-progress.js';
import type { JobTuning } from '../job-state.js';
import { perHour } from '../library/section-files.js';
import { selectSections } from '../library/select-sections.js';
import { definePhase } from './phase.js';

/**
 * Scans the sections strictly one after another, each until Plex is truly idle, then checks
 * what the scan lost against the deletion cap: over it the job stops (exit 6) and this library
 * is never shipped without `--allow-deletions`. A `scan` job first creates its libraries; a new
 * section starts its first scan by itself, so it is waited for, not triggered twice.
 *
 * A landing is read between sections: the section under way is always finished (a half-scanned
 * section would ship with items missing), then the scan stops. In a `delta` job the sections left
 * are as home had them, so the job ships; in a `scan` job they would be empty and home would lose
 * them, so nothing ships.
 */
export const scan = definePhase({
  name: 'scan',
  needs: ['plex'],
  makes: ['sections'],
  run: async ({ job, state, signal, landing, progress, make }) => {
    const { plex } = state;
    const created = job.mode === 'scan' ? await createLibraries(plex, job, signal) : new Set<string>();
    const sections = selectSections(await plex.sections(signal), job.sections);
    make({ sections });
    const statsBefore = readStats(state.mainDb);
    const summary: ScanSummary = {};
    const phaseStarted = performance.now();
    for (const [i, section] of sections.entries()) {
      if (landing.aborted) return landed(job, summary, sections.slice(i));
      const started = performance.now();
      progress({ percent: (i * 100) / sections.length, message: `scanning ${section.title}` });
      if (!created.has(section.key)) await plex.refresh(section.key, {}, signal);
      const timeoutMs = state.scanTimeoutMs?.[section.type as keyof NonNullable<JobTuning['scanTimeoutMs']>] ?? state.idle.scan.timeoutMs;
      const stopWatching = watchSectionProgress({
        work: SCAN_WORK,
        plex,
        mainDb: state.mainDb,
        section,
        index: i,
        count: sections.length,
        earlierMs: started - phaseStarted,
        progress,
        signal,
      });
      try {
        await waitUntilIdle(() => sample(plex, section, state.cpu), { ...state.idle.scan, timeoutMs }, { signal, label: `the scan of "${section.title}"` });
      } finally {
        stopWatching();
      }
      const elapsedMs = performance.now() - started;
      const before = statsBefore.sections.find((s) => s.id === Number(section.key));
      const after = readStats(state.mainDb).sections.find((s) => s.id === Number(section.key));
      const files = after?.parts ?? 0;
      const check = before ? checkDeletions(before, after, job.deletionCap) : undefined;
      summary[section.title] = {
        before: check?.before ?? 0,
        lost: check?.lost ?? 0,
        files,
        seconds: Math.round(elapsedMs / 1000),
        filesPerHour: perHour(files, elapsedMs),
      };
      progress({
        percent: ((i + 1) * 100) / sections.length,
        rate: { value: summary[section.title]!.filesPerHour, unit: 'items/h' },
        message: `${section.title}: ${files} files`,
      });
      if (check) assertDeletionsWithinCap(check, { allowDeletions: job.allowDeletions });
    }
    return { sections: summary, ...(created.size > 0 ? { created: [...created] } : {}) };
  },
});

type ScanSummary = Record<string, { before: number; lost: number; files: number; seconds: number; filesPerHour: number }>;

/** The scan stopped by a landing before `left`: shipped in a delta job, refused in a scan job. */
function landed(job: JobSpec, summary: ScanSummary, left: PlexSection[]): Record<string, unknown> {
  const names = left.map((s) => `"${s.title}"`).join(', ');
  if (job.mode === 'scan') {
    throw new PlexliftError(
      'SAFETY_STOP',
      `the job landed before section${left.length > 1 ? 's' : ''} ${names} ${left.length > 1 ? 'were' : 'was'} scanned: a scan job builds the library from nothing, so they would reach home empty; nothing is installed; run again with a larger budget`,
    );
  }
  return {
    sections: summary,
    landed: true,
    sectionsScanned: Object.keys(summary),
    sectionsLeft: left.map((s) => s.title),
  };
}

/** Creates the job's libraries that the server does not have yet; returns the new keys. */
async function createLibraries(plex: PlexClient, job: JobSpec, signal: AbortSignal): Promise<Set<string>> {
  const existing = await plex.sections(signal);
  const created = new Set<string>();
  for (const library of job.libraries) {
    if (existing.some((s) => s.title === library.name)) continue;
    const section = await plex.createSection(
      { name: library.name, type: library.type, ...SECTION_AGENTS[library.type], language: 'en-US', locations: library.locations },
      signal,
    );
    created.add(section.key);
  }
  return created;
}

async function sample(plex: PlexClient, section: PlexSection, cpu: CpuMonitor | undefined): Promise<IdleSample> {
  const [activities, sections, queue, cpuPercent] = await Promise.all([plex.activities(), plex.sections(), plex.updateQueueSize(section.key), cpu?.read()]);
  return {
    // By type and section: the Butler's activity lingers at 100 % and is not this scan (plex-api.md, Traps: `/activities` never empties).
    busyActivities: activities.filter(
      (a) =>
        (a.type === 'library.update.section' || a.type === 'library.refresh.items') &&
        (a.Context?.librarySectionID === undefined || a.Context.librarySectionID === section.key),
    ).length,
    refreshing: sections.find((s) => s.key === section.key)?.refreshing ?? false,
    updateQueueSize: queue,
    cpuPercent,
  };
}

const readStats = (path: string): LibraryStats => readDatabase(path, readLibraryStats);
