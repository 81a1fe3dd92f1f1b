/**
 * Where Plex runs next to the agent: in the official Docker image on the VM, or as a local
 * process (tests run `test/plex-sim` this way). Both start a pinned version with a claim token and
 * stop the way the image does: SIGTERM, a grace period, then SIGKILL.
 */
export interface PlexRuntime {
  readonly kind: 'docker' | 'process';
  /** The config dir (the image's `/config`) as the agent sees it. */
  readonly configDir: string;
  start(options: PlexStartOptions): Promise<{ url: string }>;
  /**
   * `clean` is false when the grace period ran out and Plex was killed (expect `-wal`/`-shm`);
   * `output` is the end of what Plex printed since it started, secrets masked.
   */
  stop(options?: { graceMs?: number }): Promise<{ clean: boolean; output?: string[] }>;
  isRunning(): boolean;
  /**
   * Plex's own `Plex SQLite` at this version, where the runtime can run it (in the image): it
   * knows Plex's tokenizer and collations, so a checkpoint or a recovery through it is complete.
   */
  plexSqlite?(version: string, options?: { signal?: AbortSignal }): Promise<PlexSqliteShell>;
}

export interface PlexSqliteShell {
  /** Program and leading arguments; the config dir is seen at the same path. */
  command: string[];
  /** A folder it sees at the same path, for its self-test. */
  scratchDir: string;
  /** Where it runs, for reports (`Plex SQLite in plexinc/pms-docker:1.43.2…`). */
  source: string;
}

export interface PlexStartOptions {
  /** The exact version to run (the Docker runtime pins its image tag to it). */
  version?: string;
  /** Host paths Plex must see, read-only, at the same place (the media mount). */
  mediaPaths?: string[];
  /** A single-use claim token, minted just in time by the controller; never logged. */
  claimToken?: string | undefined;
  timeZone?: string;
  uid?: number;
  gid?: number;
  signal?: AbortSignal;
}

/** The image's grace period between SIGTERM and SIGKILL (plex-api.md §6). */
export const PLEX_STOP_GRACE_MS = 5_000;
