import type { PlexClient, PlexSection } from '@plexlift/shared/plex-api';
import type { LibraryStats } from '@plexlift/shared/plex-db';
import type { CpuMonitor } from './cpu-monitor.js';
import type { IdleProfile } from './idle-waiter.js';

/** What the phases of one job share, filled in as they run. */
export interface JobState {
  /** The Plex API client, set by plex-start. */
  plex?: PlexClient;
  /** The library DB of the Plex on the VM. */
  mainDb: string;
  /** The sections the job works on, in the order they are processed. */
  sections?: PlexSection[];
  /** Library counts before the scan, for the deletion cap and the final report. */
  statsBefore?: LibraryStats;
  cpu?: CpuMonitor;
  /** Waits, per kind of work (scaled down in tests). */
  idle: { scan: IdleProfile; analyze: IdleProfile; refresh: IdleProfile };
  /** Refuse a scan when more than this share of known files cannot be read. @default 5 */
  maxMissingPercent?: number;
}
