import type { JobReport } from '@plexlift/shared';
import { diffLibraryStats, type LibraryStats } from '@plexlift/shared/plex-db';
import type { JobStore } from '../store/job-store.js';
import type { TransferStore } from '../transfers/transfer-store.js';

/**
 * The report (DESIGN.md): per library before/after counts and deltas, Sonic coverage, time per
 * phase, bytes moved, cost. `before` is the library as the job found it, stored at its start.
 */
export function buildJobReport(input: {
  jobId: string;
  jobs: JobStore;
  transfers: TransferStore;
  /** The library after the install; absent when the job ended before one. */
  after?: LibraryStats | undefined;
  sonic?: { analyzed: number; total: number } | undefined;
  hourlyPrice: number;
}): JobReport {
  const job = input.jobs.get(input.jobId)!;
  const before = job.report?.before;
  const phases = Object.fromEntries(
    input.jobs
      .phases(input.jobId)
      .map((p) => [
        p.phase,
        { state: p.state, ...(p.startedAt !== undefined && p.finishedAt !== undefined ? { seconds: Math.round((p.finishedAt - p.startedAt) / 1000) } : {}) },
      ]),
  );
  const bytesMoved = Object.fromEntries(input.transfers.forJob(input.jobId).map((t) => [t.direction, t.bytes ?? 0]));
  const hours = ((job.finishedAt ?? Date.now()) - job.createdAt) / 3_600_000;
  return {
    ...(before ? { before } : {}),
    ...(before && input.after ? { libraries: diffLibraryStats(before, input.after) } : {}),
    ...(input.sonic
      ? { sonic: { ...input.sonic, percent: input.sonic.total > 0 ? Math.round((1000 * input.sonic.analyzed) / input.sonic.total) / 10 : 100 } }
      : {}),
    phases,
    bytesMoved,
    hours: Math.round(hours * 100) / 100,
    cost: Math.round(hours * input.hourlyPrice * 100) / 100,
  };
}
