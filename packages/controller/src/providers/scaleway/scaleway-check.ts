import { PlexliftError, type ScalewayProviderConfig } from '@plexlift/shared';
import { describeNetworkFailure } from '../../network-failure.js';
import { createScalewayApis, DEFAULT_RETRY, scalewayCall, type RetryPolicy } from './scaleway-api.js';
import type { ScalewayContext } from './scaleway-context.js';
import { readHourlyPrice } from './scaleway-price.js';

/** Quick tries: a doctor waits seconds, not the minute a job's calls may wait out an outage. */
const CHECK_RETRY: RetryPolicy = { attempts: 3, baseMs: DEFAULT_RETRY.baseMs };

/**
 * `plexlift doctor`'s look at the API: one catalogue call proves the address and the credentials,
 * then the configured type's price. Bounded by `timeoutMs` in all (issue 19: an unreachable API
 * kept doctor silent for 39 s); when it ends, the call in flight is cut, not left to hang.
 */
export async function checkScalewayApi(config: ScalewayProviderConfig, timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const signal = AbortSignal.timeout(timeoutMs);
  const apis = createScalewayApis(config, env, { signal });
  const context: ScalewayContext = { apis, config, zone: config.zone, retry: CHECK_RETRY, pollMs: 0, signal };
  const startedAt = performance.now();
  try {
    await scalewayCall('read the Instance catalogue', () => apis.instance.listServersTypes({ zone: config.zone, perPage: 1 }), CHECK_RETRY, signal);
    const price = await readHourlyPrice(context);
    return `${apis.apiUrl} answers; ${config.commercialType} in ${config.zone} at ${price} €/h`;
  } catch (error) {
    const after = `after ${Math.round((performance.now() - startedAt) / 1000)} s`;
    const fix = 'check the network from here, or providers.scaleway.apiUrl / SCW_API_URL';
    if (signal.aborted) throw new Error(`cannot reach ${apis.apiUrl}: no answer (${after}); ${fix}`, { cause: error });
    // A failed fetch is a TypeError ("fetch failed"): the connection, not the API, failed.
    const cause = error instanceof PlexliftError ? error.cause : error;
    if (cause instanceof TypeError) throw new Error(`cannot reach ${apis.apiUrl}: ${describeNetworkFailure(cause)} (${after}); ${fix}`, { cause: error });
    throw error;
  }
}
