import type { ScalewayProviderConfig } from '@plexlift/shared';
import type { RetryPolicy, ScalewayApis } from './scaleway-api.js';

/** What the provider's operations share: the SDK's clients, the config, how calls retry and states are polled. */
export interface ScalewayContext {
  apis: ScalewayApis;
  config: ScalewayProviderConfig;
  zone: string;
  retry: RetryPolicy;
  /** Between state polls. */
  pollMs: number;
}
