/**
 * The server settings the double knows, with PMS's real ids, types and defaults
 * (plex-api.md §3.2). `autoEmptyTrash` is on by default: the trap that cost the previous tool
 * 221 of 224 films. Ids are case-sensitive; an unknown id is refused.
 */
export type SettingType = 'bool' | 'int' | 'text' | 'double';

export interface SettingDefinition {
  id: string;
  label: string;
  type: SettingType;
  default: boolean | number | string;
  group: string;
  hidden?: boolean;
  advanced?: boolean;
  enumValues?: string;
}

const BEHAVIOR = 'never:never|scheduled:as a scheduled task|asap:as a scheduled task and when media is added';
const HOURS = Array.from({ length: 24 }, (_, h) => `${h}:${String(h).padStart(2, '0')}:00`).join('|');

const butlerToggle = (id: string, label: string, value = true): SettingDefinition => ({ id, label, type: 'bool', default: value, group: 'butler' });

export const SERVER_SETTINGS: SettingDefinition[] = [
  { id: 'FriendlyName', label: 'Friendly name', type: 'text', default: '', group: 'general' },
  { id: 'autoEmptyTrash', label: 'Empty trash automatically after every scan', type: 'bool', default: true, group: 'library' },
  { id: 'FSEventLibraryUpdatesEnabled', label: 'Scan my library automatically', type: 'bool', default: false, group: 'library' },
  { id: 'FSEventLibraryPartialScanEnabled', label: 'Run a partial scan when changes are detected', type: 'bool', default: false, group: 'library' },
  { id: 'watchMusicSections', label: 'Include music libraries in automatic updates', type: 'bool', default: false, group: 'library' },
  { id: 'ScheduledLibraryUpdatesEnabled', label: 'Scan my library periodically', type: 'bool', default: false, group: 'library' },
  {
    id: 'ScheduledLibraryUpdateInterval',
    label: 'Library scan interval',
    type: 'int',
    default: 3600,
    group: 'library',
    enumValues: '900:every 15 minutes|1800:every 30 minutes|3600:hourly|7200:every 2 hours|21600:every 6 hours|43200:every 12 hours|86400:daily',
  },
  { id: 'ScannerLowPriority', label: 'Run scanner tasks at a lower priority', type: 'bool', default: false, group: 'library', advanced: true },
  { id: 'ButlerStartHour', label: 'Time at which tasks start to run', type: 'int', default: 2, group: 'butler', enumValues: HOURS },
  { id: 'ButlerEndHour', label: 'Time at which tasks stop running', type: 'int', default: 5, group: 'butler', enumValues: HOURS },
  butlerToggle('ButlerTaskBackupDatabase', 'Backup database every three days'),
  butlerToggle('ButlerTaskOptimizeDatabase', 'Optimize database every week'),
  butlerToggle('ButlerTaskCleanOldBundles', 'Remove old bundles every week'),
  butlerToggle('ButlerTaskCleanOldCacheFiles', 'Remove old cache files every week'),
  butlerToggle('ButlerTaskRefreshLocalMedia', 'Refresh local metadata every three days'),
  butlerToggle('ButlerTaskRefreshLibraries', 'Update all libraries during maintenance', false),
  butlerToggle('ButlerTaskRefreshPeriodicMetadata', 'Refresh metadata periodically'),
  butlerToggle('ButlerTaskUpgradeMediaAnalysis', 'Upgrade media analysis during maintenance'),
  butlerToggle('ButlerTaskDeepMediaAnalysis', 'Perform extensive media analysis during maintenance'),
  butlerToggle('ButlerTaskGarbageCollectBlobs', 'Garbage collect blobs'),
  butlerToggle('ButlerTaskGenerateAutoTags', 'Analyze and tag photos'),
  butlerToggle('ButlerTaskReverseGeocode', 'Fetch missing location names for items in photo sections'),
  butlerToggle('ButlerTaskGenerateMediaIndexFiles', 'Generate video preview thumbnails during maintenance', false),
  { id: 'GenerateBIFBehavior', label: 'Generate video preview thumbnails', type: 'text', default: 'never', group: 'library', enumValues: BEHAVIOR },
  { id: 'GenerateChapterThumbBehavior', label: 'Generate chapter thumbnails', type: 'text', default: 'scheduled', group: 'library', enumValues: BEHAVIOR },
  { id: 'LoudnessAnalysisBehavior', label: 'Analyze audio tracks for loudness', type: 'text', default: 'scheduled', group: 'library', enumValues: BEHAVIOR },
  { id: 'MusicAnalysisBehavior', label: 'Analyze audio tracks for sonic features', type: 'text', default: 'scheduled', group: 'library', enumValues: BEHAVIOR },
  { id: 'GenerateIntroMarkerBehavior', label: 'Generate intro video markers', type: 'text', default: 'asap', group: 'library', enumValues: BEHAVIOR },
  { id: 'GenerateCreditsMarkerBehavior', label: 'Generate credits video markers', type: 'text', default: 'asap', group: 'library', enumValues: BEHAVIOR },
  { id: 'GenerateVADBehavior', label: 'Generate voice activity data', type: 'text', default: 'scheduled', group: 'library', enumValues: BEHAVIOR },
  { id: 'GenerateAdMarkerBehavior', label: 'Generate ad markers', type: 'text', default: 'scheduled', group: 'library', enumValues: BEHAVIOR },
  {
    id: 'GenerateIndexFilesDuringAnalysis',
    label: 'Generate video preview thumbnails during analysis',
    type: 'bool',
    default: false,
    group: 'library',
    advanced: true,
  },
  {
    id: 'GenerateBIFKeyframesOnly',
    label: 'Generate video preview thumbnails from key frames only',
    type: 'bool',
    default: true,
    group: 'library',
    advanced: true,
  },
  { id: 'GenerateBIFFrameInterval', label: 'Video preview thumbnail interval', type: 'int', default: 2, group: 'library', advanced: true },
  { id: 'LongRunningJobThreads', label: 'Maximum threads for long running jobs', type: 'int', default: 0, group: 'library', advanced: true },
  { id: 'LoudnessAnalysisThreads', label: 'Loudness analysis threads', type: 'int', default: 0, group: 'library', advanced: true },
  { id: 'BackgroundQueueIdlePaused', label: 'Pause background queue', type: 'bool', default: false, group: 'general', hidden: true },
  { id: 'AcceptedEULA', label: 'Accepted EULA', type: 'bool', default: false, group: 'general', hidden: true },
];

export function findSetting(id: string): SettingDefinition | undefined {
  return SERVER_SETTINGS.find((setting) => setting.id === id);
}

/** Parses a value as PMS accepts it: booleans as 1/0/true/false, numbers as numbers. */
export function parseSettingValue(setting: SettingDefinition, raw: string): boolean | number | string | undefined {
  switch (setting.type) {
    case 'bool':
      return raw === '1' || raw === 'true' ? true : raw === '0' || raw === 'false' ? false : undefined;
    case 'int':
      return /^-?\d+$/.test(raw) ? Number(raw) : undefined;
    case 'double':
      return Number.isFinite(Number(raw)) && raw.trim() !== '' ? Number(raw) : undefined;
    default:
      return raw;
  }
}

/** How a value is stored in Preferences.xml (booleans as 1/0). */
export function serializeSettingValue(value: boolean | number | string): string {
  return typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
}
