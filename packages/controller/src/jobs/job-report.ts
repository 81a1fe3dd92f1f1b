import { diffLibraryStats, type LibraryStats } from '@plexlift/shared/plex-db';
import type { JobStore } from '../store/job-store.js';
import type { TransferStore } from '../transfers/transfer-store.js';

/**
 * The final report (DESIGN.md): per library before/after counts and deltas, Sonic coverage,
 * time per phase, bytes moved, cost.
 */
export function buildJobReport(input: {
  jobId: string;
  jobs: JobStore;
  transfers: TransferStore;
  before: LibraryStats | undefined;
  after: LibraryStats | undefined;
  sonic?: { analyzed: number; total: number } | undefined;
  hourlyPrice: number;
}): Record<string, unknown> {
  const job = input.jobs.get(input.jobId)!;
  const phases = Object.fromEntries(
    input.jobs.phases(input.jobId).map((p) => [p.phase, { state: p.state, seconds: p.startedAt !== undefined && p.finishedAt !== undefined ? Math.round((p.finishedAt - p.startedAt) / 1000) : undefined }]),
  );
  const bytesMoved = Object.fromEntries(input.transfers.forJob(input.jobId).map((t) => [t.direction, t.bytes ?? 0]));
  const hours = ((job.finishedAt ?? Date.now()) - job.createdAt) / 3_600_000;
  return {
    libraries: input.before && input.after ? diffLibraryStats(input.before, input.after) : undefined,
    ...(input.sonic ? { sonic: { ...input.sonic, percent: input.sonic.total > 0 ? Math.round((1000 * input.sonic.analyzed) / input.sonic.total) / 10 : 100 } } : {}),
    phases,
    bytesMoved,
    hours: Math.round(hours * 100) / 100,
    cost: Math.round(hours * input.hourlyPrice * 100) / 100,
  };
}
