import type { PlexClient, PlexSection } from '@plexlift/shared/plex-api';
import type { AgentJob } from '@plexlift/shared/protocol';
import type { HomeLine } from './home/connection.js';
import type { MountSupervisor } from './media/mount-supervisor.js';
import type { RcloneMount } from './media/rclone-mount.js';
import type { CpuMonitor } from './monitors/cpu-monitor.js';
import type { IdleProfile } from './monitors/idle-waiter.js';
import type { SonicTrackerOptions } from './monitors/sonic-progress-tracker.js';
import type { PlexRuntime } from './plex/plex-runtime.js';

/** Waits and limits, scaled down in tests (the agent's `--tuning` file). */
export interface JobTuning {
  /** Waits, per kind of work. */
  idle: { scan: IdleProfile; analyze: IdleProfile; refresh: IdleProfile };
  /** Sonic: reading interval and stall rules. */
  sonic: { intervalMs: number; timeoutMs: number; tracker: SonicTrackerOptions };
  /** Safety timeout of a scan per section type; the scan profile's when absent. */
  scanTimeoutMs?: Partial<Record<'movie' | 'show' | 'artist' | 'photo', number>>;
  /** Between the mount supervisor's checks. @default 60 s */
  mountCheckMs?: number;
  /** The VM's time zone (the Butler window is computed in it). @default UTC */
  timeZone?: string;
  /** How long Plex may take to be ready. @default 10 min */
  readyTimeoutMs?: number;
  /** Home out of reach this long at upload: keep the archive on the VM. @default the job's `offline.holdAfterMinutes` */
  holdAfterMs?: number;
  /** Threads Plex may use for long-running jobs. @default every vCPU */
  threads?: number;
  /** Refuse a scan when more than this share of known files cannot be read. @default 5 */
  maxMissingPercent?: number;
}

/** What a job is given before its first phase (run-job sets it; no phase changes it). */
export interface JobGiven extends JobTuning {
  /** The line home, started before the first phase so every event is journaled. */
  connection: HomeLine;
  /** Where Plex runs. */
  runtime: PlexRuntime;
  /** Reads `PlexOnlineToken` from the cloud Plex's Preferences.xml once it has claimed itself. */
  readPlexToken: () => string | undefined;
  /** The agent's own folder on the VM (rclone config and cache). */
  workDir: string;
  /** `…/Plex Media Server` of the cloud Plex: what restore fills and export archives. */
  pmsDir: string;
  /** The library DB of the Plex on the VM. */
  mainDb: string;
  /** What the idle waits and Sonic's stall rule read; without it they go by Plex's signals alone. */
  cpu?: CpuMonitor;
}

/**
 * What phases make for the phases after them. Each names its maker; a phase lists what it needs
 * and what it makes (`phases/phase.ts`), and the registry checks that every need is made before.
 */
export interface JobProducts {
  /** connect: the data plane, where snapshots come from and archives go. */
  transfers: AgentJob['transfers'];
  /** mount: the media mount. */
  mount: RcloneMount;
  /** mount: keeps the mount healthy through the long phases; stopped before unmount. */
  mountSupervisor: MountSupervisor;
  /** mount: the files the supervisor reads on each check; preflight adds readable ones. */
  mountSample: string[];
  /** plex-start: the API client of the running cloud Plex. */
  plex: PlexClient;
  /** scan: the sections the job works on, in the order they are processed. */
  sections: PlexSection[];
}

export type ProductName = keyof JobProducts;

/** A job's state as the runner holds it: what it was given, and what phases have made so far. */
export type JobState = JobGiven & Partial<JobProducts>;
