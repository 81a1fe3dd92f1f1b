import { setTimeout as sleep } from 'node:timers/promises';
import { PlexliftError } from '@plexlift/shared';
import { apiStatus, isNotFound, scalewayCall } from './scaleway-api.js';
import type { ScalewayContext } from './scaleway-context.js';
import type { ScalewayResource } from './scaleway-resource.js';
import { deleteSecurityGroup, findSecurityGroups } from './scaleway-security-group.js';
import { findServer, readServer } from './scaleway-server.js';

/**
 * Deletes everything the resource names, and what its server turns out to hold: terminates the
 * server (running) or deletes it (stopped), waits for the 404, then deletes the SBS volumes and
 * the IPs the API leaves behind, and last the job's security group (refused while a server
 * uses it). Safe to repeat; what is already gone is skipped.
 */
export async function teardownResource(context: ScalewayContext, resource: ScalewayResource, timeoutMs: number): Promise<void> {
  const { apis, zone, retry } = context;
  const deadline = Date.now() + timeoutMs;
  let serverId = resource.serverId;
  // Recorded before the create answered: the server may exist all the same.
  if (!serverId) serverId = (await findServer(context, resource))?.id;
  const volumeIds = new Set(resource.volumeIds);
  const ipIds = new Set(resource.ipIds);
  const securityGroupIds = new Set(resource.securityGroupId ? [resource.securityGroupId] : []);
  if (serverId) {
    for (;;) {
      let server;
      try {
        server = await readServer(context, serverId);
      } catch (error) {
        if (isNotFound(error)) break;
        throw error;
      }
      for (const volume of Object.values(server.volumes)) if (volume?.id) volumeIds.add(volume.id);
      for (const ip of server.publicIps) if (!ip.dynamic) ipIds.add(ip.id);
      if (server.state === 'locked')
        throw new PlexliftError(
          'CLOUD_ERROR',
          `Scaleway: server ${server.name} is locked by Scaleway and cannot be deleted now; plexlift tries again at the next sweep`,
        );
      try {
        if (server.state === 'running')
          await scalewayCall('terminate the server', () => apis.instance.serverAction({ zone, serverId, action: 'terminate' }), retry);
        else if (server.state === 'stopped' || server.state === 'stopped in place')
          await scalewayCall('delete the server', () => apis.instance.deleteServer({ zone, serverId }), retry);
      } catch (error) {
        // Gone meanwhile, or it changed state under us: look again.
        if (!isNotFound(error) && !(error instanceof PlexliftError && error.code === 'CLOUD_ERROR')) throw error;
      }
      if (Date.now() > deadline)
        throw new PlexliftError(
          'CLOUD_ERROR',
          `Scaleway: server ${server.name} still there (${server.state}) after the teardown's wait; the orphan sweep deletes it later`,
        );
      await sleep(context.pollMs);
    }
  }
  for (const volumeId of volumeIds) await deleteVolume(context, volumeId, deadline);
  for (const ip of ipIds) {
    try {
      await scalewayCall('delete the IP', () => apis.instance.deleteIp({ zone, ip }), retry);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  // Recorded before its create answered: the group may exist all the same.
  for (const group of await findSecurityGroups(context, resource.jobId)) securityGroupIds.add(group.id);
  for (const securityGroupId of securityGroupIds) await deleteSecurityGroup(context, securityGroupId, deadline);
}

/** SBS volumes outlive their server; deletable once `available` (detaching takes 5–45 s). */
async function deleteVolume(context: ScalewayContext, volumeId: string, deadline: number): Promise<void> {
  const { apis, zone, retry } = context;
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
    if (Date.now() > deadline)
      throw new PlexliftError('CLOUD_ERROR', `Scaleway: volume ${volumeId} still attached after the teardown's wait; the orphan sweep deletes it later`);
    await sleep(context.pollMs);
  }
}
