import { PlexliftError } from '@plexlift/shared';
import { isNotFound, scalewayCall } from './scaleway-api.js';
import type { ScalewayContext } from './scaleway-context.js';

/**
 * The id of the configured OS image for the zone and type (the marketplace resolves a label per
 * zone, type and architecture), or a config error that says what to choose instead.
 */
export async function findImage(context: ScalewayContext): Promise<string> {
  const { apis, config, zone, retry, signal } = context;
  let images;
  try {
    images = await scalewayCall(
      `find the ${config.image} image`,
      () => apis.marketplace.listLocalImages({ imageLabel: config.image, zone, type: 'instance_sbs' }),
      retry,
      signal,
    );
  } catch (error) {
    if (isNotFound(error))
      throw new PlexliftError(
        'CONFIG_INVALID',
        `providers.scaleway.image: no image labelled ${config.image} in the marketplace (try debian_bookworm or ubuntu_noble)`,
      );
    throw error;
  }
  // The VM runs the Node this controller serves: same architecture, or it cannot start the agent.
  const arch = process.arch === 'arm64' ? 'arm64' : 'x86_64';
  const fits = images.localImages.filter((image) => image.compatibleCommercialTypes.includes(config.commercialType));
  const match = fits.find((image) => image.arch === arch);
  if (!match) {
    const other = fits[0];
    throw new PlexliftError(
      'CONFIG_INVALID',
      other
        ? `providers.scaleway.commercialType: ${config.commercialType} is ${other.arch} and this controller is ${arch}; the VM runs the controller's own Node, so choose an ${arch} type`
        : `providers.scaleway.image: ${config.image} has no image for ${config.commercialType} in ${zone}`,
    );
  }
  return match.id;
}
