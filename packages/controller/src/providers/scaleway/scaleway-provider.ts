import { setTimeout as sleep } from 'node:timers/promises';
import { PlexliftError, type ScalewayProviderConfig } from '@plexlift/shared';
import type { Provider, ProviderResource, ProvisionRequest } from '../provider.js';
import { renderCloudInit } from './cloud-init.js';
import { apiStatus, createScalewayApis, DEFAULT_RETRY, isNotFound, isRetryable, scalewayCall, toCloudError, type RetryPolicy, type ScalewayApis } from './scaleway-api.js';

/** Every resource plexlift makes carries this tag, and `plexlift-job=<id>`. */
export const PLEXLIFT_TAG = 'plexlift';
export const jobTag = (jobId: string) => `plexlift-job=${jobId}`;

/** What the job store keeps of a job's machine: written before each thing exists. */
export interface ScalewayResource extends ProviderResource {
  jobId: string;
  zone: string;
  name: string;
  serverId?: string;
  volumeIds: string[];
  ipIds: string[];
  hourlyPrice: number;
  /** When the oldest of its parts was made (from the API; listings only). */
  createdAt?: string;
}

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
 * tags and a recognisable name, its cloud-init set, then powered on; "ready" is the agent saying
 * hello, not `running`. Teardown terminates (running) or deletes (stopped), waits for the 404,
 * then deletes the SBS volumes and IPs the API leaves behind. Every step is safe to repeat.
 */
export function createScalewayProvider(options: ScalewayProviderOptions): Provider & { apis: ScalewayApis; refreshPrice: () => Promise<number> } {
  const { config } = options;
  const apis = createScalewayApis(config, options.env);
  const retry = options.retry ?? DEFAULT_RETRY;
  const pollMs = options.pollMs ?? 3_000;
  const zone = config.zone;
  const provider = {
    name: 'scaleway' as const,
    hourlyPrice: config.hourlyPrice ?? 0,
    caps: { maxHours: config.maxHours, maxCost: config.maxCost },
    apis,
    refreshPrice: async () => {
      provider.hourlyPrice = await hourlyPrice();
      return provider.hourlyPrice;
    },
    provision: (request: ProvisionRequest) => provision(request),
    status: async (resource: ProviderResource) => {
      const { serverId } = resource as ScalewayResource;
      if (!serverId) return { exists: false, detail: 'no server yet' };
      try {
        const server = await readServer(serverId);
        const state = server.state;
        return { exists: state === 'running' || state === 'starting', detail: `server ${server.name} ${state}${server.stateDetail ? ` (${server.stateDetail})` : ''}` };
      } catch (error) {
        if (isNotFound(error)) return { exists: false, detail: 'server deleted' };
        throw error;
      }
    },
    teardown: (resource: ProviderResource) => teardown(resource as ScalewayResource),
    describe: (resource: ProviderResource) => {
      const r = resource as ScalewayResource;
      const parts = [r.serverId ? `server ${r.name} (${r.serverId})` : 'no server', `${r.volumeIds.length} volume${r.volumeIds.length === 1 ? '' : 's'}`, `${r.ipIds.length} IP${r.ipIds.length === 1 ? '' : 's'}`];
      return `${parts.join(', ')} in ${r.zone}`;
    },
    list: () => list(),
  };

  async function hourlyPrice(): Promise<number> {
    let found: number | undefined;
    try {
      const types = await scalewayCall('read the Instance catalogue', () => apis.instance.listServersTypes({ zone, perPage: 100 }), retry);
      found = types.servers[config.commercialType]?.hourlyPrice;
      // The catalogue is paged: the type may be on a later page.
      for (let page = 2; found === undefined && types.totalCount > (page - 1) * 100; page++) {
        const next = await scalewayCall('read the Instance catalogue', () => apis.instance.listServersTypes({ zone, perPage: 100, page }), retry);
        found = next.servers[config.commercialType]?.hourlyPrice;
      }
    } catch (error) {
      if (config.hourlyPrice === undefined) throw error;
    }
    if (found !== undefined) return found;
    if (config.hourlyPrice !== undefined) return config.hourlyPrice;
    throw new PlexliftError('CONFIG_INVALID', `providers.commercialType: ${config.commercialType} is not in the ${zone} catalogue; choose a type the zone offers, or set providers.scaleway.hourlyPrice`);
  }

  async function imageFor(): Promise<string> {
    let images;
    try {
      images = await scalewayCall(`find the ${config.image} image`, () => apis.marketplace.listLocalImages({ imageLabel: config.image, zone, type: 'instance_sbs' }), retry);
    } catch (error) {
      if (isNotFound(error)) throw new PlexliftError('CONFIG_INVALID', `providers.scaleway.image: no image labelled ${config.image} in the marketplace (try debian_bookworm or ubuntu_noble)`);
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

  async function provision(request: ProvisionRequest): Promise<ScalewayResource> {
    const resource: ScalewayResource = { jobId: request.jobId, zone, name: `plexlift-${request.jobId}`, volumeIds: [], ipIds: [], hourlyPrice: provider.hourlyPrice };
    resource.hourlyPrice = await provider.refreshPrice();
    const image = await imageFor();
    // Written down before the server exists: a crash from here on leaves a trace to clean up.
    request.record(resource);
    const server = await createServer(resource, image);
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
    await scalewayCall('set the cloud-init user data', () => apis.instance.setServerUserData({ zone, serverId: server.id, key: 'cloud-init', content: userData }), retry);
    await powerOn(server.id);
    return resource;
  }

  /**
   * Creates the server; an answer lost to a 5xx or a cut may hide a server that exists, so before
   * trying again the server is looked for by its tag and exact name (and adopted when found).
   */
  async function createServer(resource: ScalewayResource, image: string) {
    for (let attempt = 1; ; attempt++) {
      try {
        const created = await apis.instance.createServer({
          zone,
          name: resource.name,
          commercialType: config.commercialType,
          image,
          tags: [PLEXLIFT_TAG, jobTag(resource.jobId)],
          dynamicIpRequired: true,
          protected: false,
          volumes: { '0': { size: config.rootVolumeGb * 1_000_000_000, volumeType: 'sbs_volume' } },
          ...(apis.projectId ? { project: apis.projectId } : {}),
        });
        if (!created.server) throw new PlexliftError('CLOUD_ERROR', 'Scaleway: the create answered without a server');
        return created.server;
      } catch (error) {
        const existing = await findServer(resource).catch(() => undefined);
        if (existing) return existing;
        if (!isRetryable(error) || attempt >= retry.attempts) throw toCloudError(`create the ${config.commercialType} server`, error, attempt);
        await sleep(Math.min(retry.baseMs * 2 ** (attempt - 1), 30_000));
      }
    }
  }

  async function readServer(serverId: string) {
    const { server } = await scalewayCall('read the server', () => apis.instance.getServer({ zone, serverId }), retry);
    if (!server) throw new PlexliftError('CLOUD_ERROR', `Scaleway: reading server ${serverId} answered without a server`);
    return server;
  }

  async function findServer(resource: Pick<ScalewayResource, 'jobId' | 'name'>) {
    const { servers } = await scalewayCall('list the servers', () => apis.instance.listServers({ zone, tags: [jobTag(resource.jobId)], name: resource.name }), retry);
    // `name` is a substring filter: only the exact name is ours.
    return servers.find((s) => s.name === resource.name);
  }

  async function powerOn(serverId: string): Promise<void> {
    await scalewayCall('power the server on', () => apis.instance.serverAction({ zone, serverId, action: 'poweron' }), retry);
    const deadline = Date.now() + config.bootTimeoutSeconds * 1000;
    // A poll right after power-on may still see `stopped`: "not yet" for a grace period.
    const grace = Date.now() + Math.min(30_000, config.bootTimeoutSeconds * 250);
    for (;;) {
      const server = await readServer(serverId);
      if (server.state === 'running') return;
      if (server.state === 'locked') throw new PlexliftError('CLOUD_ERROR', `Scaleway: server ${server.name} is locked by Scaleway; it is deleted when unlocked (contact their support)`);
      if ((server.state === 'stopped' || server.state === 'stopped in place') && Date.now() > grace) {
        throw new PlexliftError('CLOUD_ERROR', `Scaleway: server ${server.name} went back to ${server.state} while booting; it is deleted`);
      }
      if (Date.now() > deadline) throw new PlexliftError('CLOUD_ERROR', `Scaleway: server ${server.name} not running after ${config.bootTimeoutSeconds} s (still ${server.state}); it is deleted`);
      await sleep(pollMs);
    }
  }

  async function teardown(resource: ScalewayResource): Promise<void> {
    const deadline = Date.now() + (options.teardownTimeoutMs ?? 600_000);
    let serverId = resource.serverId;
    // Recorded before the create answered: the server may exist all the same.
    if (!serverId) serverId = (await findServer(resource))?.id;
    const volumeIds = new Set(resource.volumeIds);
    const ipIds = new Set(resource.ipIds);
    if (serverId) {
      for (;;) {
        let server;
        try {
          server = await readServer(serverId);
        } catch (error) {
          if (isNotFound(error)) break;
          throw error;
        }
        for (const volume of Object.values(server.volumes)) if (volume?.id) volumeIds.add(volume.id);
        for (const ip of server.publicIps) if (!ip.dynamic) ipIds.add(ip.id);
        if (server.state === 'locked') throw new PlexliftError('CLOUD_ERROR', `Scaleway: server ${server.name} is locked by Scaleway and cannot be deleted now; plexlift tries again at the next sweep`);
        try {
          if (server.state === 'running') await scalewayCall('terminate the server', () => apis.instance.serverAction({ zone, serverId, action: 'terminate' }), retry);
          else if (server.state === 'stopped' || server.state === 'stopped in place') await scalewayCall('delete the server', () => apis.instance.deleteServer({ zone, serverId }), retry);
        } catch (error) {
          // Gone meanwhile, or it changed state under us: look again.
          if (!isNotFound(error) && !(error instanceof PlexliftError && error.code === 'CLOUD_ERROR')) throw error;
        }
        if (Date.now() > deadline) throw new PlexliftError('CLOUD_ERROR', `Scaleway: server ${server.name} still there (${server.state}) after the teardown's wait; the orphan sweep deletes it later`);
        await sleep(pollMs);
      }
    }
    for (const volumeId of volumeIds) await deleteVolume(volumeId, deadline);
    for (const ip of ipIds) {
      try {
        await scalewayCall('delete the IP', () => apis.instance.deleteIp({ zone, ip }), retry);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
  }

  /** SBS volumes outlive their server; deletable once `available` (detaching takes 5–45 s). */
  async function deleteVolume(volumeId: string, deadline: number): Promise<void> {
    for (;;) {
      try {
        const volume = await scalewayCall('read the volume', () => apis.block.getVolume({ zone, volumeId }), retry);
        if (volume.status === 'available' || volume.status === 'error') {
          await scalewayCall('delete the volume', () => apis.block.deleteVolume({ zone, volumeId }), retry);
          return;
        }
      } catch (error) {
        if (isNotFound(error)) return;
        // Still attached when we asked: read it again.
        if (apiStatus(error) !== 412) throw error;
      }
      if (Date.now() > deadline) throw new PlexliftError('CLOUD_ERROR', `Scaleway: volume ${volumeId} still attached after the teardown's wait; the orphan sweep deletes it later`);
      await sleep(pollMs);
    }
  }

  /** Everything tagged plexlift in the zone, grouped by job: servers, and volumes and IPs without a server. */
  async function list(): Promise<{ jobId: string; resource: ScalewayResource }[]> {
    const byJob = new Map<string, ScalewayResource>();
    const of = (tags: string[], name?: string) => {
      const jobId = tags.find((t) => t.startsWith('plexlift-job='))?.slice('plexlift-job='.length);
      if (!jobId) return undefined;
      let entry = byJob.get(jobId);
      if (!entry) byJob.set(jobId, (entry = { jobId, zone, name: name ?? `plexlift-${jobId}`, volumeIds: [], ipIds: [], hourlyPrice: provider.hourlyPrice }));
      return entry;
    };
    const servers = await scalewayCall('list the servers', () => apis.instance.listServers({ zone, tags: [PLEXLIFT_TAG] }).all(), retry);
    for (const server of servers) {
      const entry = of(server.tags, server.name);
      if (!entry) continue;
      entry.serverId = server.id;
      if (server.creationDate) entry.createdAt = server.creationDate.toISOString();
      for (const volume of Object.values(server.volumes)) if (volume?.id && !entry.volumeIds.includes(volume.id)) entry.volumeIds.push(volume.id);
    }
    const volumes = await scalewayCall('list the volumes', () => apis.block.listVolumes({ zone, tags: [PLEXLIFT_TAG], includeDeleted: false }).all(), retry);
    for (const volume of volumes) {
      const entry = of(volume.tags);
      if (entry && !entry.volumeIds.includes(volume.id)) entry.volumeIds.push(volume.id);
      if (entry && volume.createdAt && (!entry.createdAt || volume.createdAt.toISOString() < entry.createdAt)) entry.createdAt = volume.createdAt.toISOString();
    }
    const ips = await scalewayCall('list the IPs', () => apis.instance.listIps({ zone, tags: [PLEXLIFT_TAG] }).all(), retry);
    for (const ip of ips) {
      const entry = of(ip.tags);
      if (entry && !entry.ipIds.includes(ip.id)) entry.ipIds.push(ip.id);
    }
    return [...byJob.values()].map((resource) => ({ jobId: resource.jobId, resource }));
  }

  return provider;
}
