import type { Instancev1 } from '@scaleway/sdk-instance';
import { PlexliftError } from '@plexlift/shared';
import { apiStatus, isNotFound, pause, pollBackoff, scalewayCall, toCloudError, withRetries } from './scaleway-api.js';
import type { ScalewayContext } from './scaleway-context.js';
import { jobTag, leftToReaper, PLEXLIFT_TAG, type ScalewayResource } from './scaleway-resource.js';

/** A job's security group name: recognisable in the console, and how a create whose answer was lost is found. */
export const securityGroupNameOf = (jobId: string) => `plexlift-${jobId}`;

/**
 * The job's firewall (issue 16 item 23): nothing comes in, everything goes out. The agent only
 * calls home, so Plex's 32400 and SSH need not be reachable from the internet; stateful, so the
 * answers to the agent's own connections come back. Like the server, a create whose answer was
 * lost is looked for by its tag and name before trying again, and adopted when found.
 */
export async function createSecurityGroup(context: ScalewayContext, resource: ScalewayResource): Promise<Instancev1.SecurityGroup> {
  const { apis, zone, retry, signal } = context;
  const name = securityGroupNameOf(resource.jobId);
  const createOrAdopt = async () => {
    try {
      const created = await apis.instance.createSecurityGroup({
        zone,
        name,
        description: `plexlift job ${resource.jobId}: no inbound traffic, the agent only calls home`,
        tags: [PLEXLIFT_TAG, jobTag(resource.jobId)],
        stateful: true,
        inboundDefaultPolicy: 'drop',
        outboundDefaultPolicy: 'accept',
        projectDefault: false,
        ...(apis.projectId ? { project: apis.projectId } : {}),
      });
      if (!created.securityGroup) throw new PlexliftError('CLOUD_ERROR', 'Scaleway: the security group create answered without a security group');
      return created.securityGroup;
    } catch (error) {
      const existing = (await findSecurityGroups(context, resource.jobId).catch(() => []))[0];
      if (existing) return existing;
      throw error;
    }
  };
  return withRetries(createOrAdopt, retry, (error, attempts) => toCloudError('create the job security group', error, attempts), signal);
}

/** The job's security groups, found by its job tag and exact name (`name` is a substring filter). */
export async function findSecurityGroups(context: ScalewayContext, jobId: string): Promise<Instancev1.SecurityGroup[]> {
  const { apis, zone, retry, signal } = context;
  const name = securityGroupNameOf(jobId);
  const groups = await scalewayCall(
    'list the security groups',
    () => apis.instance.listSecurityGroups({ zone, tags: [jobTag(jobId)], name }).all(),
    retry,
    signal,
  );
  return groups.filter((group) => group.name === name);
}

/**
 * Deletes a security group once no server uses it: the API answers 409 "Group is in use" while
 * its server is still terminating, so that answer is asked again, with bounded backoff, until the
 * deadline (then the group is left to the orphan reaper). Gone already counts as done.
 */
export async function deleteSecurityGroup(
  context: ScalewayContext,
  securityGroupId: string,
  deadline: number,
  onWait?: (detail: string) => void,
): Promise<void> {
  const { apis, zone, retry, signal } = context;
  const waits = pollBackoff(context.pollMs, deadline);
  for (let told = false; ; told = true) {
    try {
      await scalewayCall('delete the security group', () => apis.instance.deleteSecurityGroup({ zone, securityGroupId }), retry, signal);
      return;
    } catch (error) {
      signal?.throwIfAborted();
      if (isNotFound(error)) return;
      if (apiStatus(error) !== 409) throw error;
    }
    if (Date.now() >= deadline) throw leftToReaper(`security group ${securityGroupId} still in use by a server after the teardown's wait`);
    if (!told) onWait?.(`the security group ${securityGroupId} is still in use by its server`);
    await pause(waits.next(), signal);
  }
}
