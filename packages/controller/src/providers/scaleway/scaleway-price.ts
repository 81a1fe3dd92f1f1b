import { PlexliftError } from '@plexlift/shared';
import { scalewayCall } from './scaleway-api.js';
import type { ScalewayContext } from './scaleway-context.js';

const PAGE_SIZE = 100;

/**
 * The hourly price of the configured type, from the zone's Instance catalogue; the config's
 * `hourlyPrice` when the catalogue cannot say (unreachable, or the type is not listed).
 */
export async function readHourlyPrice(context: ScalewayContext): Promise<number> {
  const { apis, config, zone, retry, signal } = context;
  let found: number | undefined;
  try {
    const types = await scalewayCall('read the Instance catalogue', () => apis.instance.listServersTypes({ zone, perPage: PAGE_SIZE }), retry, signal);
    found = types.servers[config.commercialType]?.hourlyPrice;
    // The catalogue is paged: the type may be on a later page.
    for (let page = 2; found === undefined && types.totalCount > (page - 1) * PAGE_SIZE; page++) {
      const next = await scalewayCall('read the Instance catalogue', () => apis.instance.listServersTypes({ zone, perPage: PAGE_SIZE, page }), retry, signal);
      found = next.servers[config.commercialType]?.hourlyPrice;
    }
  } catch (error) {
    if (config.hourlyPrice === undefined) throw error;
  }
  if (found !== undefined) return found;
  if (config.hourlyPrice !== undefined) return config.hourlyPrice;
  throw new PlexliftError(
    'CONFIG_INVALID',
    `providers.commercialType: ${config.commercialType} is not in the ${zone} catalogue; choose a type the zone offers, or set providers.scaleway.hourlyPrice`,
  );
}
