import type { ScalewayProviderConfig } from '@plexlift/shared';
import { renderCloudInit } from '../cloud-init.js';
import type { Provider, ProviderResource, ProvisionRequest } from '../provider.js';
import { createScalewayApis, DEFAULT_RETRY, scalewayCall, type RetryPolicy, type ScalewayApis } from './scaleway-api.js';
import type { ScalewayContext } from './scaleway-context.js';
import { findImage } from './scaleway-image.js';
import { listResources } from './scaleway-listing.js';
import { readHourlyPrice } from './scaleway-price.js';
import { describeResource, jobTag, PLEXLIFT_TAG, serverNameOf, type ScalewayResource } from './scaleway-resource.js';
import { createSecurityGroup } from './scaleway-security-group.js';
import { createServer, powerOn, readServerStatus } from './scaleway-server.js';
import { teardownResource } from './scaleway-teardown.js';

export interface ScalewayProviderOptions {
  config: ScalewayProviderConfig;
  env?: NodeJS.ProcessEnv;
  /** Between state polls. @default 3 s */
  pollMs?: number;
  retry?: RetryPolicy;
  /** How long a teardown waits for the server to go and its volumes to free. @default 10 min */
  teardownTimeoutMs?: number;
}

/**
 * One Scaleway Instance per job (DESIGN.md, providers): the server is created stopped with its
 * tags and a recognisable name, behind the job's own security group (nothing inbound), its
 * cloud-init set, then powered on; "ready" is the agent saying
 * hello, not `running`. Teardown terminates (running) or deletes (stopped), waits for the 404,
 * then deletes the SBS volumes, IPs and the security group the API leaves behind. Every step is safe to repeat.
 */
export function createScalewayProvider(options: ScalewayProviderOptions): Provider & { apis: ScalewayApis; refreshPrice: () => Promise<number> } {
  const { config } = options;
  const apis = createScalewayApis(config, options.env);
  const context: ScalewayContext = { apis, config, zone: config.zone, retry: options.retry ?? DEFAULT_RETRY, pollMs: options.pollMs ?? 3_000 };
  const provider = {
    name: 'scaleway' as const,
    hourlyPrice: config.hourlyPrice ?? 0,
    caps: { maxHours: config.maxHours, maxCost: config.maxCost },
    apis,
    refreshPrice: async () => {
      provider.hourlyPrice = await readHourlyPrice(context);
      return provider.hourlyPrice;
    },
    provision: async (request: ProvisionRequest) => {
      const resource: ScalewayResource = {
        jobId: request.jobId,
        zone: config.zone,
        name: serverNameOf(request.jobId),
        volumeIds: [],
        ipIds: [],
        hourlyPrice: await provider.refreshPrice(),
      };
      return provision(context, resource, request);
    },
    status: (resource: ProviderResource) => readServerStatus(context, resource as ScalewayResource),
    teardown: (resource: ProviderResource) => teardownResource(context, resource as ScalewayResource, options.teardownTimeoutMs ?? 600_000),
    describe: (resource: ProviderResource) => describeResource(resource as ScalewayResource),
    list: () => listResources(context, provider.hourlyPrice),
  };
  return provider;
}

/** The machine of one job, each part recorded before it exists so that a crash leaves a trace to reap. */
async function provision(context: ScalewayContext, resource: ScalewayResource, request: ProvisionRequest): Promise<ScalewayResource> {
  const { apis, config, zone, retry } = context;
  const image = await findImage(context);
  request.record(resource);
  // Before the server: it is born behind the firewall, never open to the internet.
  const securityGroup = await createSecurityGroup(context, resource);
  resource.securityGroupId = securityGroup.id;
  request.record(resource);
  const server = await createServer(context, resource, image, securityGroup.id);
  resource.serverId = server.id;
  resource.volumeIds = Object.values(server.volumes).flatMap((v) => (v?.id ? [v.id] : []));
  request.record(resource);
  // Root volumes come untagged: tagged here so a sweep finds them even without their server.
  for (const volumeId of resource.volumeIds) {
    await scalewayCall('tag the root volume', () => apis.block.updateVolume({ zone, volumeId, tags: [PLEXLIFT_TAG, jobTag(request.jobId)] }), retry);
  }
  const userData = renderCloudInit({
    jobId: request.jobId,
    controllerUrl: request.controllerUrl,
    fingerprint: request.controllerTls?.fingerprint,
    publicKeyPin: request.controllerTls?.publicKeyPin,
    bootstrapToken: request.bootstrapToken,
    plexCommand: config.plexCommand,
  });
  await scalewayCall(
    'set the cloud-init user data',
    () => apis.instance.setServerUserData({ zone, serverId: server.id, key: 'cloud-init', content: userData }),
    retry,
  );
  await powerOn(context, server.id);
  return resource;
}
