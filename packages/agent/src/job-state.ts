import type { PlexClient, PlexSection } from '@plexlift/shared/plex-api';
import type { AgentJob } from '@plexlift/shared/protocol';
import type { HomeConnection } from './connection.js';
import type { MountSupervisor } from './mount-supervisor.js';
import type { RcloneMount } from './rclone-mount.js';
import type { LibraryStats } from '@plexlift/shared/plex-db';
import type { CpuMonitor } from './cpu-monitor.js';
import type { IdleProfile } from './idle-waiter.js';
import type { PlexRuntime } from './plex-runtime.js';
import type { SonicTrackerOptions } from './sonic-progress-tracker.js';

/** What the phases of one job share, filled in as they run. */
export interface JobState {
  /** The line home, started before the first phase so every event is journaled. */
  connection?: HomeConnection;
  /** The data plane: where snapshots come from and archives go. */
  transfers?: AgentJob['transfers'];
  /** The agent's own folder on the VM (rclone config and cache). */
  workDir: string;
  /** `…/Plex Media Server` of the cloud Plex: what restore fills and export archives. */
  pmsDir: string;
  mount?: RcloneMount;
  /** Keeps the mount healthy through the long phases; stopped before unmount. */
  mountSupervisor?: MountSupervisor;
  /** Between the supervisor's checks. @default 60 s */
  mountCheckMs?: number;
  /** Files known readable (from preflight) that the supervisor reads on each check. */
  mountSample?: string[];
  /** Where Plex runs. */
  runtime?: PlexRuntime;
  /** Reads `PlexOnlineToken` from the cloud Plex's Preferences.xml once it has claimed itself. */
  readPlexToken?: () => string | undefined;
  /** Secrets received over the authenticated channel; never logged or reported. */
  secrets?: { claimToken?: string | undefined; rcloneConfig?: string | undefined };
  /** The VM's time zone (the Butler window is computed in it). @default UTC */
  timeZone?: string;
  /** How long Plex may take to be ready. @default 10 min */
  readyTimeoutMs?: number;
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
  /** Safety timeout of a scan per section type; the scan profile's when absent. */
  scanTimeoutMs?: Partial<Record<'movie' | 'show' | 'artist' | 'photo', number>>;
  /** Home out of reach this long at upload: keep the archive on the VM. @default the job's `offline.holdAfterMinutes` */
  holdAfterMs?: number;
  /** Threads Plex may use for long-running jobs. @default every vCPU */
  threads?: number;
  /** Refuse a scan when more than this share of known files cannot be read. @default 5 */
  maxMissingPercent?: number;
  /** Sonic: reading interval and stall rules (scaled down in tests). */
  sonic: { intervalMs: number; timeoutMs: number; tracker: SonicTrackerOptions };
}
