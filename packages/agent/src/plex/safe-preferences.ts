import type { PreferenceValue } from '@plexlift/shared/plex-api';

/**
 * The preferences a cloud Plex gets before its first scan (plex-api.md §10.4): no automatic
 * empty trash (a scan over a stalled mount marks everything missing, and empty trash deletes it
 * for good: plex-api.md, Traps), no automatic or scheduled scans, the Butler window moved
 * to the other side of the clock, and every analysis off until its phase turns it on.
 */
export function safePreferences(now: Date, timeZone: string): Record<string, PreferenceValue> {
  const hour = Number(new Intl.DateTimeFormat('en-US', { timeZone, hour: 'numeric', hourCycle: 'h23' }).format(now));
  const start = (hour + 12) % 24;
  return {
    autoEmptyTrash: false,
    FSEventLibraryUpdatesEnabled: false,
    FSEventLibraryPartialScanEnabled: false,
    ScheduledLibraryUpdatesEnabled: false,
    ButlerTaskRefreshLibraries: false,
    ButlerStartHour: start,
    ButlerEndHour: (start + 1) % 24,
    GenerateBIFBehavior: 'never',
    GenerateChapterThumbBehavior: 'never',
    LoudnessAnalysisBehavior: 'never',
    MusicAnalysisBehavior: 'never',
    GenerateIntroMarkerBehavior: 'never',
    GenerateCreditsMarkerBehavior: 'never',
  };
}
