import type { ScalewayProviderConfig } from '@plexlift/shared';
import { renderCloudInit } from '../cloud-init.js';
import type { Provider, ProviderResource, ProvisionRequest, TeardownOptions } from '../provider.js';
import { apiStatus, createScalewayApis, DEFAULT_RETRY, scalewayCall, type RetryPolicy, type ScalewayApis } from './scaleway-api.js';
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
  /** How long a teardown waits for the server to go and its volumes to free (then leaves them to the orphan reaper). @default 10 min */
  teardownTimeoutMs?: number;
}

/**
 * One Scaleway Instance per job (DESIGN.md, providers): the server is created stopped with its
 * tags and a recognisable name, behind the job's own security group (nothing inbound), its
 * cloud-init set, then powered on; "ready" is the agent saying
 * hello, not `running`. Teardown terminates (running), deletes (stopped) or first stops (starting)
 * the server, waits for the 404, then deletes the SBS volumes, IPs and the security group the API
 * leaves behind. Every step is safe to repeat; every call and wait ends at the operation's signal.
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
      const operation = { ...context, signal: request.signal };
      provider.hourlyPrice = await readHourlyPrice(operation);
      const resource: ScalewayResource = {
        jobId: request.jobId,
        zone: config.zone,
        name: serverNameOf(request.jobId),
        volumeIds: [],
        ipIds: [],
        hourlyPrice: provider.hourlyPrice,
      };
      return provision(operation, resource, request);
    },
    status: (resource: ProviderResource, signal?: AbortSignal) => readServerStatus({ ...context, signal }, resource as ScalewayResource),
    teardown: (resource: ProviderResource, teardown: TeardownOptions) =>
      teardownResource({ ...context, signal: teardown.signal }, resource as ScalewayResource, options.teardownTimeoutMs ?? 600_000, teardown.onWait),
    describe: (resource: ProviderResource) => describeResource(resource as ScalewayResource),
    list: () => listResources(context, provider.hourlyPrice),
  };
  return provider;
}

/** The machine of one job, each part recorded before it exists so that a crash leaves a trace to reap. */
async function provision(context: ScalewayContext, resource: ScalewayResource, request: ProvisionRequest): Promise<ScalewayResource> {
  const { apis, config, zone, retry, signal } = context;
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
  for (const volumeId of resource.volumeIds) await tagRootVolume(context, volumeId, request);
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
    signal,
  );
  await powerOn(context, server.id);
  return resource;
}

/**
 * Root volumes come untagged (reference pitfall 1): tagged here so a sweep finds them even without
 * their server. Block's "Update a volume", `PATCH /block/v1/zones/{zone}/volumes/{volume_id}`
 * (name, tags, size), is in no recorded cassette; Scaleway documents the route in
 * https://www.scaleway.com/en/docs/block-storage/api-cli/increasing-volume-size (a PATCH of the
 * volume, with the reference at https://www.scaleway.com/en/developers/api/block/) and the SDK's
 * `Blockv1.API.updateVolume` says "Update the technical details of a volume, such as its name,
 * tags, or its new size". Should the API refuse it (405, or 404 for the route), the job goes on
 * with the volume untagged: the listing still finds it through its server's `volumes`.
 */
async function tagRootVolume(context: ScalewayContext, volumeId: string, request: ProvisionRequest): Promise<void> {
  const { apis, zone, retry, signal } = context;
  try {
    await scalewayCall('tag the root volume', () => apis.block.updateVolume({ zone, volumeId, tags: [PLEXLIFT_TAG, jobTag(request.jobId)] }), retry, signal);
  } catch (error) {
    const status = apiStatus(error);
    if (signal?.aborted || (status !== 404 && status !== 405)) throw error;
    request.log?.(
      'warn',
      `Scaleway refused to tag the root volume ${volumeId} (HTTP ${status}); it stays untagged, and the orphan reaper still finds it through its server`,
    );
  }
}
