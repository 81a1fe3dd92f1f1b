import { isFinal, type JobState } from '@plexlift/shared';
import type { TransferRecord } from './transfer-store.js';

/**
 * Whether a job in `state` still needs a transfer's files (issue 16 item 11: a restore snapshot
 * is a full copy of the home DB). The restore snapshot serves the agent only while the job runs.
 * The export is needed until it is installed: while the job is under way, a `--no-install` job
 * waiting in `verified`, and a failed job whose verified archive home keeps for another try (an
 * install rolled back); a done job installed it, and an export never verified is of no use
 * once the job is over. The job's pruning deletes what is left (the sweep finds it orphaned).
 */
export function transferNeeded(transfer: TransferRecord, state: JobState): boolean {
  if (transfer.direction === 'restore') return state === 'queued' || state === 'provisioning' || state === 'running';
  if (!isFinal(state)) return true;
  return state === 'failed' && transfer.state === 'verified';
}
