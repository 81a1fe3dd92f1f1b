/** The Plex container of a job, next to its agent: the agent creates it, teardown removes it. */
export function plexContainerName(jobId: string): string {
  return `plexlift-plex-${jobId}`;
}
