/**
 * Where a job is in its life (DESIGN.md, "A job"); the last three are final. `tearing-down`: the
 * job failed or was aborted (its error is recorded) and its machine is being deleted; it ends
 * `failed` or `aborted` once nothing is left, or once what is left is the reaper's.
 */
export const JOB_STATES = ['queued', 'provisioning', 'running', 'verified', 'installing', 'tearing-down', 'done', 'failed', 'aborted'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const FINAL_STATES: readonly JobState[] = ['done', 'failed', 'aborted'];

/** A job in a final state has ended: nothing of it runs or bills any more. */
export function isFinal(state: JobState): boolean {
  return FINAL_STATES.includes(state);
}
