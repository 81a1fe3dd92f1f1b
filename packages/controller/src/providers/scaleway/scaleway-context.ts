import type { ScalewayProviderConfig } from '@plexlift/shared';
import type { RetryPolicy, ScalewayApis } from './scaleway-api.js';

/** What the provider's operations share: the SDK's clients, the config, how calls retry and states are polled. */
export interface ScalewayContext {
  apis: ScalewayApis;
  config: ScalewayProviderConfig;
  zone: string;
  retry: RetryPolicy;
  /** Between state polls (the first wait of a teardown's backoff). */
  pollMs: number;
  /**
   * The operation's abort (a job's cap or abort, the daemon stopping): every call, retry and
   * poll ends with its reason. Each operation gets its own copy of the context with it.
   */
  signal?: AbortSignal | undefined;
}
