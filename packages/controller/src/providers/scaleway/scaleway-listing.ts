import { scalewayCall } from './scaleway-api.js';
import type { ScalewayContext } from './scaleway-context.js';
import { jobOfTags, PLEXLIFT_TAG, serverNameOf, type ScalewayResource } from './scaleway-resource.js';

/**
 * Everything tagged plexlift in the zone, grouped by job (what the orphan reaper compares with
 * the live jobs): servers, and the volumes, IPs and security groups left without a server.
 */
export async function listResources(context: ScalewayContext, hourlyPrice: number): Promise<{ jobId: string; resource: ScalewayResource }[]> {
  const { apis, zone, retry, signal } = context;
  const byJob = new Map<string, ScalewayResource>();
  const entryOf = (tags: string[], name?: string) => {
    const jobId = jobOfTags(tags);
    if (!jobId) return undefined;
    let entry = byJob.get(jobId);
    if (!entry) byJob.set(jobId, (entry = { jobId, zone, name: name ?? serverNameOf(jobId), volumeIds: [], ipIds: [], hourlyPrice }));
    return entry;
  };
  const servers = await scalewayCall('list the servers', () => apis.instance.listServers({ zone, tags: [PLEXLIFT_TAG] }).all(), retry, signal);
  for (const server of servers) {
    const entry = entryOf(server.tags, server.name);
    if (!entry) continue;
    entry.serverId = server.id;
    if (server.creationDate) entry.createdAt = server.creationDate.toISOString();
    for (const volume of Object.values(server.volumes)) if (volume?.id && !entry.volumeIds.includes(volume.id)) entry.volumeIds.push(volume.id);
  }
  const volumes = await scalewayCall(
    'list the volumes',
    () => apis.block.listVolumes({ zone, tags: [PLEXLIFT_TAG], includeDeleted: false }).all(),
    retry,
    signal,
  );
  for (const volume of volumes) {
    const entry = entryOf(volume.tags);
    if (entry && !entry.volumeIds.includes(volume.id)) entry.volumeIds.push(volume.id);
    if (entry && volume.createdAt && (!entry.createdAt || volume.createdAt.toISOString() < entry.createdAt)) entry.createdAt = volume.createdAt.toISOString();
  }
  const ips = await scalewayCall('list the IPs', () => apis.instance.listIps({ zone, tags: [PLEXLIFT_TAG] }).all(), retry, signal);
  for (const ip of ips) {
    const entry = entryOf(ip.tags);
    if (entry && !entry.ipIds.includes(ip.id)) entry.ipIds.push(ip.id);
  }
  const groups = await scalewayCall('list the security groups', () => apis.instance.listSecurityGroups({ zone, tags: [PLEXLIFT_TAG] }).all(), retry, signal);
  for (const group of groups) {
    const entry = entryOf(group.tags);
    if (entry) entry.securityGroupId = group.id;
    if (entry && group.creationDate && (!entry.createdAt || group.creationDate.toISOString() < entry.createdAt))
      entry.createdAt = group.creationDate.toISOString();
  }
  return [...byJob.values()].map((resource) => ({ jobId: resource.jobId, resource }));
}
