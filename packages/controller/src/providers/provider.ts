import type { ProviderName } from '@plexlift/shared';

export type { ProviderName };

/** What a provider knows about the machine it made for a job; stored before the machine exists. */
export type ProviderResource = Record<string, unknown>;

/** What a machine needs to trust the controller's self-signed certificate (both public). */
export interface ControllerTls {
  /** SHA-256 of the certificate, `AB:CD:…` (the agent's pin). */
  fingerprint: string;
  /** base64 SHA-256 of its public key (curl's `--pinnedpubkey`, for the agent's download). */
  publicKeyPin: string;
}

export interface ProvisionRequest {
  jobId: string;
  /** How the agent reaches the controller. */
  controllerUrl: string;
  /** The controller's own certificate, which the agent pins; absent without TLS of our own. */
  controllerTls?: ControllerTls;
  /** The job's media folder (`media.mountPath`), which its Plex reads; a local container may bind only it. */
  mediaPath?: string;
  /** Works once, expires within minutes; the only secret the machine is given at birth. */
  bootstrapToken: string;
  /** Called with the resource before it is created, so a crash in between still leaves a trace to reap. */
  record: (resource: ProviderResource) => void;
  /** The job's cap, abort or the daemon stopping: every wait and retry ends with its reason (what exists is recorded). */
  signal?: AbortSignal;
  /** What the job's log should say (a step skipped, a fallback taken); never secrets. */
  log?: (level: 'info' | 'warn', message: string) => void;
}

export interface TeardownOptions {
  /** `--keep`: leave the machine for inspection (local providers only). */
  keep: boolean;
  /**
   * The daemon stopping: the teardown stops waiting and rejects with its reason; the job stays
   * `tearing-down` and the next start takes it up. A job's cap or abort never cuts a teardown.
   */
  signal?: AbortSignal;
  /** What the teardown waits for, in a user's words ("the server is starting; Scaleway deletes it once it can"), each time it changes. */
  onWait?: (detail: string) => void;
}

export interface ProviderStatus {
  /** Still there (running or starting); false once it is gone. */
  exists: boolean;
  detail: string;
}

/**
 * Where agents run. The controller is the only one that deletes what a provider made; every
 * provider can tell what it made from its own records (`list`, for the orphan reaper).
 */
export interface Provider {
  name: ProviderName;
  provision: (request: ProvisionRequest) => Promise<ProviderResource>;
  status: (resource: ProviderResource, signal?: AbortSignal) => Promise<ProviderStatus>;
  /**
   * Deletes everything the resource names; harmless when it is already gone. A machine stuck in
   * a state that refuses deletion is stopped as soon as the cloud allows, polled with bounded
   * backoff; what is still there at the provider's deadline is left to the orphan reaper and the
   * rejection says so (`details.leftToReaper`).
   */
  teardown: (resource: ProviderResource, options: TeardownOptions) => Promise<void>;
  /** What the provider finds of its own making, with the job each belongs to. */
  list: () => Promise<{ jobId: string; resource: ProviderResource }[]>;
  /** The hourly price of one machine (0 for local), for the report and the caps. */
  hourlyPrice: number;
  /** What a resource is, in a few words (`plexlift vms`). */
  describe: (resource: ProviderResource) => string;
  /** Hard limits per job, enforced by the controller with a teardown (clouds only). */
  caps?: { maxHours: number; maxCost: number };
  /** Reads the current price from the cloud's catalogue (and keeps it in `hourlyPrice`). */
  refreshPrice?: () => Promise<number>;
}
