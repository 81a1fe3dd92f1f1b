import type { Instancev1 } from '@scaleway/sdk-instance';
import { PlexliftError } from '@plexlift/shared';
import { apiStatus, isNotFound, pause, pollBackoff, scalewayCall } from './scaleway-api.js';
import type { ScalewayContext } from './scaleway-context.js';
import { leftToReaper, type ScalewayResource } from './scaleway-resource.js';
import { deleteSecurityGroup, findSecurityGroups } from './scaleway-security-group.js';
import { findServer, readServer } from './scaleway-server.js';

/** What the teardown does to a server in a given state, and what it then waits for, in a user's words. */
interface ServerStep {
  act?: { what: string; call: () => Promise<unknown> };
  waiting: string;
}

/**
 * Deletes everything the resource names, and what its server turns out to hold: gets the server
 * out of the API by whatever its state allows (below), waits for the 404, then deletes the SBS
 * volumes and the IPs the API leaves behind, and last the job's security group (refused while a
 * server uses it). Polls back off (pollMs doubling up to 5 × pollMs); each new thing waited for
 * goes to `onWait`. At the deadline, or for a server Scaleway locked, it rejects with
 * `details.leftToReaper`; the context's signal ends it at once with its reason. Safe to repeat;
 * what is already gone is skipped.
 */
export async function teardownResource(
  context: ScalewayContext,
  resource: ScalewayResource,
  timeoutMs: number,
  onWait?: (detail: string) => void,
): Promise<void> {
  const { apis, zone, retry, signal } = context;
  const deadline = Date.now() + timeoutMs;
  let serverId = resource.serverId;
  // Recorded before the create answered: the server may exist all the same.
  if (!serverId) serverId = (await findServer(context, resource))?.id;
  const volumeIds = new Set(resource.volumeIds);
  const ipIds = new Set(resource.ipIds);
  const securityGroupIds = new Set(resource.securityGroupId ? [resource.securityGroupId] : []);
  if (serverId) {
    const waits = pollBackoff(context.pollMs, deadline);
    let waiting: string | undefined;
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
      if (server.state === 'locked') throw leftToReaper(`server ${server.name} is locked by Scaleway and cannot be deleted now (contact their support)`);
      const step = serverStep(context, server);
      try {
        // Once: this loop itself reads the state again and asks again after a refusal.
        if (step.act) await scalewayCall(step.act.what, step.act.call, { ...retry, attempts: 1 }, signal);
      } catch (error) {
        signal?.throwIfAborted();
        // Gone meanwhile, or it changed state under us: look again.
        if (!isNotFound(error) && !(error instanceof PlexliftError && error.code === 'CLOUD_ERROR')) throw error;
      }
      if (Date.now() >= deadline) throw leftToReaper(`server ${server.name} still there (${server.state}) after the teardown's wait`);
      if (step.waiting !== waiting) {
        waiting = step.waiting;
        waits.restart();
        onWait?.(waiting);
      }
      await pause(waits.next(), signal);
    }
  }
  for (const volumeId of volumeIds) await deleteVolume(context, volumeId, deadline, onWait);
  for (const ip of ipIds) {
    try {
      await scalewayCall('delete the IP', () => apis.instance.deleteIp({ zone, ip }), retry, signal);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  // Recorded before its create answered: the group may exist all the same.
  for (const group of await findSecurityGroups(context, resource.jobId)) securityGroupIds.add(group.id);
  for (const securityGroupId of securityGroupIds) await deleteSecurityGroup(context, securityGroupId, deadline, onWait);
}

/**
 * Chosen by the server's state and `allowed_actions` (reference §2.3, pitfall 3): `running` is
 * terminated; `stopped` and `stopped in place` are deleted (terminate needs running); `starting`
 * accepts neither, only `stop_in_place` (recorded), which takes it through `stopping` to
 * `stopped in place`, then deletable; `stopping` is waited for.
 */
function serverStep(context: ScalewayContext, server: Instancev1.Server): ServerStep {
  const { apis, zone } = context;
  const serverId = server.id;
  const allowed = server.allowedActions;
  const action = (name: 'terminate' | 'stop_in_place', what: string) => ({ what, call: () => apis.instance.serverAction({ zone, serverId, action: name }) });
  switch (server.state) {
    case 'running':
      return allowed.includes('terminate')
        ? { act: action('terminate', 'terminate the server'), waiting: `the server ${server.name} is terminating` }
        : { waiting: `the server ${server.name} is running and cannot be terminated yet` };
    case 'stopped':
    case 'stopped in place':
      return {
        act: { what: 'delete the server', call: () => apis.instance.deleteServer({ zone, serverId }) },
        waiting: `the server ${server.name} is being deleted`,
      };
    case 'starting':
      return {
        ...(allowed.includes('stop_in_place') ? { act: action('stop_in_place', 'stop the starting server') } : {}),
        waiting: `the server ${server.name} is starting; Scaleway deletes it once it can`,
      };
    default:
      return {
        waiting: server.stateDetail === 'terminating' ? `the server ${server.name} is terminating` : `the server ${server.name} is ${server.state}`,
      };
  }
}

/** SBS volumes outlive their server; deletable once `available` (detaching takes 5–45 s). */
async function deleteVolume(context: ScalewayContext, volumeId: string, deadline: number, onWait?: (detail: string) => void): Promise<void> {
  const { apis, zone, retry, signal } = context;
  const waits = pollBackoff(context.pollMs, deadline);
  for (let told = false; ; told = true) {
    try {
      const volume = await scalewayCall('read the volume', () => apis.block.getVolume({ zone, volumeId }), retry, signal);
      if (volume.status === 'available' || volume.status === 'error') {
        await scalewayCall('delete the volume', () => apis.block.deleteVolume({ zone, volumeId }), retry, signal);
        return;
      }
    } catch (error) {
      signal?.throwIfAborted();
      if (isNotFound(error)) return;
      // Still attached when we asked: read it again.
      if (apiStatus(error) !== 412) throw error;
    }
    if (Date.now() >= deadline) throw leftToReaper(`volume ${volumeId} still attached after the teardown's wait`);
    if (!told) onWait?.(`volume ${volumeId} is detaching`);
    await pause(waits.next(), signal);
  }
}
