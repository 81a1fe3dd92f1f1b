import { isFinal, type JobState } from '@plexlift/shared';
import type { TransferRecord } from './transfer-store.js';

/**
 * Whether a job in `state` still needs a transfer's files (issue 16 item 11: a restore snapshot
 * is a full copy of the home DB). The export is needed until it is installed: while the job is
 * under way, a `--no-install` job waiting in `verified`, and a failed job whose verified archive
 * home keeps for another try (an install refused or rolled back); a done job installed it, and an
 * export never verified is of no use once the job is over. The restore snapshot serves the
 * agent's restore, then the install's merge (issue 18: it is the base of what home changed during
 * the job), so it lives as long as the export it goes with. The job's pruning deletes what is
 * left (the sweep finds it orphaned).
 */
export function transferNeeded(transfer: TransferRecord, state: JobState, exportVerified: boolean): boolean {
  if (!isFinal(state)) return true;
  if (state !== 'failed') return false;
  return transfer.direction === 'restore' ? exportVerified : transfer.state === 'verified';
}
