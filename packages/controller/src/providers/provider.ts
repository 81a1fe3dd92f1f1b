/** What a provider knows about the machine it made for a job; stored before the machine exists. */
export type ProviderResource = Record<string, unknown>;

export interface ProvisionRequest {
  jobId: string;
  /** How the agent reaches the controller. */
  controllerUrl: string;
  /** SHA-256 of the controller's self-signed certificate, which the agent pins; absent without TLS of our own. */
  controllerFingerprint?: string;
  /** Works once, expires within minutes; the only secret the machine is given at birth. */
  bootstrapToken: string;
  /** Called with the resource before it is created, so a crash in between still leaves a trace to reap. */
  record: (resource: ProviderResource) => void;
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
  name: 'local' | 'docker' | 'scaleway';
  provision: (request: ProvisionRequest) => Promise<ProviderResource>;
  status: (resource: ProviderResource) => Promise<ProviderStatus>;
  /** Deletes everything the resource names; harmless when it is already gone. */
  teardown: (resource: ProviderResource, options: { keep: boolean }) => Promise<void>;
  /** What the provider finds of its own making, with the job each belongs to. */
  list: () => Promise<{ jobId: string; resource: ProviderResource }[]>;
  /** The hourly price of one machine (0 for local), for the report and the caps. */
  hourlyPrice: number;
}
