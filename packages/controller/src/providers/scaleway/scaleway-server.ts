import type { Instancev1 } from '@scaleway/sdk-instance';
import { PlexliftError } from '@plexlift/shared';
import type { ProviderStatus } from '../provider.js';
import { isNotFound, pause, scalewayCall, toCloudError, withRetries } from './scaleway-api.js';
import type { ScalewayContext } from './scaleway-context.js';
import { jobTag, PLEXLIFT_TAG, type ScalewayResource } from './scaleway-resource.js';

/**
 * Creates the job's server, stopped, with its tags and name. An answer lost to a 5xx or a cut may
 * hide a server that exists, so before trying again the server is looked for by its tag and exact
 * name (and adopted when found). It is attached to the job's security group from its creation.
 */
export async function createServer(context: ScalewayContext, resource: ScalewayResource, image: string, securityGroupId: string): Promise<Instancev1.Server> {
  const { apis, config, zone, retry, signal } = context;
  const createOrAdopt = async () => {
    try {
      const created = await apis.instance.createServer({
        zone,
        name: resource.name,
        commercialType: config.commercialType,
        image,
        tags: [PLEXLIFT_TAG, jobTag(resource.jobId)],
        dynamicIpRequired: true,
        protected: false,
        // The job's own group, not the project's default (which lets everything in).
        securityGroup: securityGroupId,
        volumes: { '0': { size: config.rootVolumeGb * 1_000_000_000, volumeType: 'sbs_volume' } },
        ...(apis.projectId ? { project: apis.projectId } : {}),
      });
      if (!created.server) throw new PlexliftError('CLOUD_ERROR', 'Scaleway: the create answered without a server');
      return created.server;
    } catch (error) {
      const existing = await findServer(context, resource).catch(() => undefined);
      if (existing) return existing;
      throw error;
    }
  };
  return withRetries(createOrAdopt, retry, (error, attempts) => toCloudError(`create the ${config.commercialType} server`, error, attempts), signal);
}

export async function readServer(context: ScalewayContext, serverId: string): Promise<Instancev1.Server> {
  const { apis, zone, retry, signal } = context;
  const { server } = await scalewayCall('read the server', () => apis.instance.getServer({ zone, serverId }), retry, signal);
  if (!server) throw new PlexliftError('CLOUD_ERROR', `Scaleway: reading server ${serverId} answered without a server`);
  return server;
}

/** The job's server, found by its job tag and its exact name. */
export async function findServer(context: ScalewayContext, resource: Pick<ScalewayResource, 'jobId' | 'name'>): Promise<Instancev1.Server | undefined> {
  const { apis, zone, retry, signal } = context;
  const { servers } = await scalewayCall(
    'list the servers',
    () => apis.instance.listServers({ zone, tags: [jobTag(resource.jobId)], name: resource.name }),
    retry,
    signal,
  );
  // `name` is a substring filter: only the exact name is ours.
  return servers.find((s) => s.name === resource.name);
}

/**
 * Powers the server on and waits for `running`; a server that falls back, locks or takes too long
 * is an error (the caller deletes it). The context's signal ends the wait at once (a job's cap
 * shorter than the boot timeout acts at the cap).
 */
export async function powerOn(context: ScalewayContext, serverId: string): Promise<void> {
  const { apis, config, zone, retry, signal } = context;
  await scalewayCall('power the server on', () => apis.instance.serverAction({ zone, serverId, action: 'poweron' }), retry, signal);
  const deadline = Date.now() + config.bootTimeoutSeconds * 1000;
  // A poll right after power-on may still see `stopped`: "not yet" for a grace period.
  const grace = Date.now() + Math.min(30_000, config.bootTimeoutSeconds * 250);
  for (;;) {
    const server = await readServer(context, serverId);
    if (server.state === 'running') return;
    if (server.state === 'locked')
      throw new PlexliftError('CLOUD_ERROR', `Scaleway: server ${server.name} is locked by Scaleway; it is deleted when unlocked (contact their support)`);
    if ((server.state === 'stopped' || server.state === 'stopped in place') && Date.now() > grace) {
      throw new PlexliftError('CLOUD_ERROR', `Scaleway: server ${server.name} went back to ${server.state} while booting; it is deleted`);
    }
    if (Date.now() > deadline)
      throw new PlexliftError(
        'CLOUD_ERROR',
        `Scaleway: server ${server.name} not running after ${config.bootTimeoutSeconds} s (still ${server.state}); it is deleted`,
      );
    await pause(Math.min(context.pollMs, Math.max(0, deadline - Date.now())), signal);
  }
}

/** Whether the job's server is still there (running or starting), in the words of `plexlift vms`. */
export async function readServerStatus(context: ScalewayContext, resource: ScalewayResource): Promise<ProviderStatus> {
  const { serverId } = resource;
  if (!serverId) return { exists: false, detail: 'no server yet' };
  try {
    const server = await readServer(context, serverId);
    const state = server.state;
    return {
      exists: state === 'running' || state === 'starting',
      detail: `server ${server.name} ${state}${server.stateDetail ? ` (${server.stateDetail})` : ''}`,
    };
  } catch (error) {
    if (isNotFound(error)) return { exists: false, detail: 'server deleted' };
    throw error;
  }
}
