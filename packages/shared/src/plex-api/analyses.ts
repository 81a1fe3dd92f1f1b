import type { PreferenceValue } from './apply-preferences.js';

export type AnalysisName = 'deepMediaAnalysis' | 'previewThumbnails' | 'chapterThumbnails' | 'introMarkers' | 'creditsMarkers' | 'loudness' | 'sonic';

export interface AnalysisDefinition {
  /** How the report and the CLI name it. */
  label: string;
  /** The setting that decides whether Plex does it, and its value when on and when off. */
  preference: { id: string; on: PreferenceValue; off: PreferenceValue };
  /** Further settings it needs when on (the Butler task's own enable switch). */
  alsoOn?: Record<string, PreferenceValue>;
  /** The Butler task that does the work for the whole server (plex-api.md §3.1, names of 1.43.2). */
  butlerTask: string;
  /** Plex's own default, i.e. what a home server whose Preferences.xml does not mention it does. */
  defaultOn: boolean;
}

/**
 * Each analysis a job can ask for, tied to its real preference and Butler task (plex-api.md
 * §3.1–3.2). The `*Behavior` settings take `never|scheduled|asap`; on the VM "on" is `asap`.
 */
export const ANALYSES: Record<AnalysisName, AnalysisDefinition> = {
  deepMediaAnalysis: {
    label: 'deep media analysis',
    preference: { id: 'ButlerTaskDeepMediaAnalysis', on: true, off: false },
    butlerTask: 'DeepMediaAnalysis',
    defaultOn: true,
  },
  previewThumbnails: {
    label: 'video preview thumbnails',
    preference: { id: 'GenerateBIFBehavior', on: 'asap', off: 'never' },
    alsoOn: { ButlerTaskGenerateMediaIndexFiles: true },
    butlerTask: 'GenerateMediaIndexFiles',
    defaultOn: false,
  },
  chapterThumbnails: {
    label: 'chapter thumbnails',
    preference: { id: 'GenerateChapterThumbBehavior', on: 'asap', off: 'never' },
    butlerTask: 'GenerateChapterThumbs',
    defaultOn: true,
  },
  introMarkers: {
    label: 'intro markers',
    preference: { id: 'GenerateIntroMarkerBehavior', on: 'asap', off: 'never' },
    butlerTask: 'ButlerTaskGenerateIntroMarkers',
    defaultOn: true,
  },
  creditsMarkers: {
    label: 'credits markers',
    preference: { id: 'GenerateCreditsMarkerBehavior', on: 'asap', off: 'never' },
    butlerTask: 'ButlerTaskGenerateCreditsMarkers',
    defaultOn: true,
  },
  loudness: {
    label: 'loudness analysis',
    preference: { id: 'LoudnessAnalysisBehavior', on: 'asap', off: 'never' },
    butlerTask: 'LoudnessAnalysis',
    defaultOn: true,
  },
  sonic: {
    label: 'Sonic analysis',
    preference: { id: 'MusicAnalysisBehavior', on: 'asap', off: 'never' },
    butlerTask: 'MusicAnalysis',
    defaultOn: true,
  },
};

export const ANALYSIS_NAMES = Object.keys(ANALYSES) as AnalysisName[];

/**
 * Which analyses a server has enabled, from its `Preferences.xml` values (strings, and only the
 * ones that differ from Plex's defaults are written there): the default choice of a job.
 */
export function analysesFromPreferences(preferences: ReadonlyMap<string, string>): Record<AnalysisName, boolean> {
  const chosen = {} as Record<AnalysisName, boolean>;
  for (const name of ANALYSIS_NAMES) {
    const { preference, defaultOn } = ANALYSES[name];
    const value = preferences.get(preference.id);
    if (value === undefined) chosen[name] = defaultOn;
    else if (typeof preference.on === 'boolean') chosen[name] = value === '1' || value === 'true';
    else chosen[name] = value !== 'never';
  }
  return chosen;
}

/** A job's choice made whole: what it names, Plex's default for the rest. */
export function resolveAnalyses(chosen: { [name in AnalysisName]?: boolean | undefined }): Record<AnalysisName, boolean> {
  return Object.fromEntries(ANALYSIS_NAMES.map((name) => [name, chosen[name] ?? ANALYSES[name].defaultOn])) as Record<AnalysisName, boolean>;
}

/** The settings that turn the chosen analyses on and the others off. */
export function analysisPreferences(chosen: Record<AnalysisName, boolean>): Record<string, PreferenceValue> {
  const settings: Record<string, PreferenceValue> = {};
  for (const name of ANALYSIS_NAMES) {
    const definition = ANALYSES[name];
    settings[definition.preference.id] = chosen[name] ? definition.preference.on : definition.preference.off;
    if (chosen[name]) Object.assign(settings, definition.alsoOn);
  }
  return settings;
}
