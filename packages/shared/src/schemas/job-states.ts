/** Where a job is in its life (DESIGN.md, "A job"); the last three are final. */
export const JOB_STATES = ['queued', 'provisioning', 'running', 'verified', 'installing', 'done', 'failed', 'aborted'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const FINAL_STATES: readonly JobState[] = ['done', 'failed', 'aborted'];

/** A job in a final state has ended: nothing of it runs or bills any more. */
export function isFinal(state: JobState): boolean {
  return FINAL_STATES.includes(state);
}
