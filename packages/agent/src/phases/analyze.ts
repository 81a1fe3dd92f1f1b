import { availableParallelism } from 'node:os';
import { ANALYSES, ANALYSIS_NAMES, analysisPreferences, applyPreferences, resolveAnalyses, type PreferenceValue } from '@plexlift/shared/plex-api';
import { waitUntilIdle } from '../monitors/idle-waiter.js';
import { readIdleSample } from '../monitors/section-idle.js';
import { ANALYSIS_WORK, watchSectionProgress } from '../monitors/section-progress.js';
import { readSectionFiles, perHour } from '../library/section-files.js';
import { definePhase } from './phase.js';

/** Plex's thread settings for long-running jobs; its default (0) is half the threads. */
const THREAD_PREFERENCES = ['LongRunningJobThreads', 'LoudnessAnalysisThreads'];

/**
 * The analyses the job chose (Plex's defaults for the ones it does not name): their settings
 * on, every vCPU for long-running jobs, then media analysis section after section, then the
 * Butler task of each chosen analysis, one after another, each until Plex is idle again. Never
 * with a force flag; Sonic has its own phase. A landing stops it at once: its summary then holds
 * the sections and Butler tasks that finished.
 */
export const analyze = definePhase({
  name: 'analyze',
  needs: ['plex', 'sections'],
  applies: (job) => !job.skipAnalysis,
  landable: true,
  run: async ({ job, state, signal, landing, progress, report }) => {
    const { plex } = state;
    const chosen = { ...resolveAnalyses(job.analyses), sonic: false };
    const threads = state.threads ?? availableParallelism();
    const known = new Set((await plex.preferences(signal)).map((s) => s.id));
    const settings: Record<string, PreferenceValue> = analysisPreferences(chosen);
    for (const id of THREAD_PREFERENCES) if (known.has(id)) settings[id] = threads;
    await applyPreferences(plex, settings, signal);

    const tasks = ANALYSIS_NAMES.filter((name) => chosen[name]);
    const steps = state.sections.length + tasks.length;
    const sections: Record<string, { files: number; seconds: number; filesPerHour: number }> = {};
    const butler: Record<string, { seconds: number }> = {};
    const missing: string[] = [];
    const summary = () => ({ analyses: tasks, threads, sections, butlerTasks: butler, ...(missing.length > 0 ? { missingButlerTasks: missing } : {}) });
    try {
      const phaseStarted = performance.now();
      for (const [i, section] of state.sections.entries()) {
        progress({ percent: (i * 100) / steps, message: `analysing ${section.title}` });
        const started = performance.now();
        await plex.analyze(section.key, signal);
        const stopWatching = watchSectionProgress({
          work: ANALYSIS_WORK,
          plex,
          mainDb: state.mainDb,
          section,
          index: i,
          count: steps,
          earlierMs: started - phaseStarted,
          progress,
          signal,
        });
        try {
          await waitUntilIdle(() => readIdleSample(plex, section, state.cpu), state.idle.analyze, { signal, label: `the analysis of "${section.title}"` });
        } finally {
          stopWatching();
        }
        const elapsedMs = performance.now() - started;
        const files = readSectionFiles(state.mainDb, section.key);
        sections[section.title] = { files, seconds: Math.round(elapsedMs / 1000), filesPerHour: perHour(files, elapsedMs) };
        progress({
          percent: ((i + 1) * 100) / steps,
          rate: { value: sections[section.title]!.filesPerHour, unit: 'items/h' },
          message: `${section.title} analysed`,
        });
      }

      // The Butler does these for the whole server; names are checked against /butler, since task
      // names vary by version (plex-api.md, Traps: `/butler` is not a MediaContainer).
      const available = new Set((await plex.butlerTasks(signal)).map((t) => t.name));
      for (const [i, name] of tasks.entries()) {
        const { butlerTask, label } = ANALYSES[name];
        if (!available.has(butlerTask)) {
          missing.push(butlerTask);
          report({ type: 'log', level: 'warn', message: `this Plex has no Butler task ${butlerTask}: ${label} is not run` });
          continue;
        }
        progress({ percent: ((state.sections.length + i) * 100) / steps, message: label });
        const started = performance.now();
        await plex.startButlerTask(butlerTask, signal);
        await waitUntilIdle(() => readIdleSample(plex, undefined, state.cpu), state.idle.analyze, { signal, label });
        butler[butlerTask] = { seconds: Math.round((performance.now() - started) / 1000) };
      }
    } catch (error) {
      if (!landing.aborted) throw error;
      return { ...summary(), landed: true };
    }
    return summary();
  },
});
