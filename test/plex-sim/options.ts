/** The double's knobs: where it runs, how fast its clock goes, and what goes wrong. */
export interface PlexSimOptions {
  /** The config dir (the official image's `/config`). */
  dataDir: string;
  /** 0 picks a free port (tests); the image uses 32400. */
  port?: number;
  host?: string;
  /** The PMS version it claims to be (`/identity`). */
  version?: string;
  /** A claim token, as `PLEX_CLAIM`: exchanged with plex.tv for `PlexOnlineToken` before start-up. */
  claimToken?: string | undefined;
  /** Base URL of plex.tv (a double in tests). */
  plexTvUrl?: string | undefined;
  /** `TZ`: the zone the Butler window and the log use. */
  timeZone?: string;
  /** Shifts the server's clock (e.g. into or out of the Butler window). */
  clockOffsetMs?: number;
  /** Time runs this many times faster than PMS's: start-up, scans, analysis, Butler waits. */
  speed?: number;
  /** Real-time durations (ms) before the speed factor. */
  timings?: Partial<PlexSimTimings>;
  /** Real CPU burnt per item processed (ms, before the speed factor), so a CPU monitor sees work. */
  cpuMsPerItem?: number;
  /** `TranscoderTempDirectory` written on first run (the image sets `/transcode`). */
  transcodeDir?: string;
  faults?: Partial<PlexSimFaults>;
}

export interface PlexSimTimings {
  /** From listening to `startState` complete (real PMS: about 44 s). */
  startUpMs: number;
  /** From the trigger until `refreshing` reads true (the race of plex-api.md trap 5). */
  refreshingLagMs: number;
  /** Per item scanned. */
  scanItemMs: number;
  /** Per item whose metadata is processed after a scan (`updateQueueSize` drains at this pace). */
  metadataItemMs: number;
  /** Per item analysed. */
  analyzeItemMs: number;
  /** Per track of Sonic analysis. */
  sonicTrackMs: number;
  /** From start-up to the Butler waking up inside its window (real PMS: 5 min). */
  butlerWakeMs: number;
  /** The least a Butler task takes. */
  butlerTaskMs: number;
  /** SIGTERM to the image's SIGKILL (5 s). */
  shutdownGraceMs: number;
}

export const DEFAULT_TIMINGS: PlexSimTimings = {
  startUpMs: 44_000,
  refreshingLagMs: 1_000,
  scanItemMs: 50,
  metadataItemMs: 200,
  analyzeItemMs: 500,
  sonicTrackMs: 2_000,
  butlerWakeMs: 5 * 60_000,
  butlerTaskMs: 2_000,
  shutdownGraceMs: 5_000,
};

/** Failure modes of the real system (issue: fault knobs). All off by default. */
export interface PlexSimFaults {
  /** `/identity` answers 503 this many times first. */
  identityFailures: number;
  /** The next requests answer this status (a 5xx burst); `count` requests long. */
  errorBurst: { status: number; count: number } | undefined;
  /** Folders list, files do not: the degraded rclone mount of the 221-of-224 incident. */
  invisibleFiles: boolean;
  /** Files list but reading them fails with ENOENT (stale paths). */
  staleFiles: boolean;
  /** The process dies (SIGKILL) after scanning this many items. */
  crashAfterItems: number | undefined;
  /** Analysis keeps the CPU busy and makes no progress. */
  stallAnalysis: boolean;
  /** Shutting down takes this long before the DB is closed (a large DB): past the image's 5 s, SIGKILL leaves `-wal`/`-shm`. */
  slowShutdownMs: number;
}

export const NO_FAULTS: PlexSimFaults = {
  identityFailures: 0,
  errorBurst: undefined,
  invisibleFiles: false,
  staleFiles: false,
  crashAfterItems: undefined,
  stallAnalysis: false,
  slowShutdownMs: 0,
};

export interface ResolvedPlexSimOptions extends Required<Omit<PlexSimOptions, 'timings' | 'faults' | 'claimToken' | 'plexTvUrl'>> {
  claimToken: string | undefined;
  plexTvUrl: string | undefined;
  timings: PlexSimTimings;
  faults: PlexSimFaults;
}

export function resolveOptions(options: PlexSimOptions): ResolvedPlexSimOptions {
  const speed = options.speed ?? 1;
  if (!(speed > 0)) throw new Error(`plex-sim: speed must be > 0, got ${speed}`);
  return {
    dataDir: options.dataDir,
    port: options.port ?? 32400,
    host: options.host ?? '127.0.0.1',
    version: options.version ?? '1.43.2.10687-563d026ea',
    claimToken: options.claimToken,
    plexTvUrl: options.plexTvUrl,
    timeZone: options.timeZone ?? 'UTC',
    clockOffsetMs: options.clockOffsetMs ?? 0,
    speed,
    timings: { ...DEFAULT_TIMINGS, ...options.timings },
    cpuMsPerItem: options.cpuMsPerItem ?? 5,
    transcodeDir: options.transcodeDir ?? '/transcode',
    faults: { ...NO_FAULTS, ...options.faults },
  };
}
