import { PlexliftError } from '@plexlift/shared';
import type { ProviderResource } from '../provider.js';

/** Every resource plexlift makes carries this tag, and `plexlift-job=<id>`. */
export const PLEXLIFT_TAG = 'plexlift';
const JOB_TAG_PREFIX = 'plexlift-job=';

export const jobTag = (jobId: string) => `${JOB_TAG_PREFIX}${jobId}`;

/** The job a resource belongs to, from its tags; undefined when it carries none. */
export function jobOfTags(tags: string[]): string | undefined {
  return tags.find((tag) => tag.startsWith(JOB_TAG_PREFIX))?.slice(JOB_TAG_PREFIX.length) || undefined;
}

/** A job's server name: recognisable in the console, and how a create whose answer was lost is found. */
export const serverNameOf = (jobId: string) => `plexlift-${jobId}`;

/** What the job store keeps of a job's machine: written before each thing exists. */
export interface ScalewayResource extends ProviderResource {
  jobId: string;
  zone: string;
  name: string;
  serverId?: string;
  /** The job's own firewall (nothing inbound); absent in records from before it existed. */
  securityGroupId?: string;
  volumeIds: string[];
  ipIds: string[];
  hourlyPrice: number;
  /** When the oldest of its parts was made (from the API; listings only). */
  createdAt?: string;
}

/** A resource in a few words (`plexlift vms`). */
export function describeResource(resource: ScalewayResource): string {
  const { serverId, name, volumeIds, ipIds, zone, securityGroupId } = resource;
  const parts = [
    serverId ? `server ${name} (${serverId})` : 'no server',
    // A server's firewall goes without saying; one left alone is a leftover worth naming.
    ...(securityGroupId && !serverId ? [`security group ${securityGroupId}`] : []),
    `${volumeIds.length} volume${volumeIds.length === 1 ? '' : 's'}`,
    `${ipIds.length} IP${ipIds.length === 1 ? '' : 's'}`,
  ];
  return `${parts.join(', ')} in ${zone}`;
}

/**
 * What a teardown could not delete before its deadline (or at all, while Scaleway locks it): the
 * orphan reaper deletes it at a later sweep, and the rejection says so (`details.leftToReaper`).
 */
export function leftToReaper(what: string): PlexliftError {
  return new PlexliftError('CLOUD_ERROR', `Scaleway: ${what}; left to the orphan reaper (plexlift vms), which deletes it at a later sweep`, {
    details: { leftToReaper: true },
  });
}
