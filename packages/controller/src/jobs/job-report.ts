import type { JobReport } from '@plexlift/shared';
import type { PhaseName } from '@plexlift/shared/protocol';
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
  /** `after` is the library as the VM shipped it, not installed yet (a `--no-install` job). */
  shipped?: boolean;
  sonic?: { analyzed: number; total: number } | undefined;
  /** Sonic per music library after the install (matched by id with the ones stored at the start). */
  sonicSections?: { id: number; analyzed: number; total: number }[];
  hourlyPrice: number;
  /** What the install carried from home (the user-state merge). */
  homeChanges?: JobReport['homeChanges'];
  /** What home had that the installed library lacks (within the cap, or allowed). */
  homeDeletions?: JobReport['homeDeletions'];
}): JobReport {
  const job = input.jobs.get(input.jobId)!;
  const before = job.report?.before;
  const phaseRows = input.jobs.phases(input.jobId);
  const phases = Object.fromEntries(
    phaseRows.map((p) => [
      p.phase,
      { state: p.state, ...(p.startedAt !== undefined && p.finishedAt !== undefined ? { seconds: Math.round((p.finishedAt - p.startedAt) / 1000) } : {}) },
    ]),
  );
  const bytesMoved = Object.fromEntries(input.transfers.forJob(input.jobId).map((t) => [t.direction, t.bytes ?? 0]));
  const hours = ((job.finishedAt ?? Date.now()) - job.createdAt) / 3_600_000;
  const cost = hours * input.hourlyPrice;
  const sonicSections = job.report?.sonicSections?.map((section) => {
    const after = input.sonicSections?.find((s) => s.id === section.id);
    return { ...section, ...(after ? { after: { analyzed: after.analyzed, total: after.total } } : {}) };
  });
  // What this run added to Sonic: per hour and per euro, for the estimates of the runs to come.
  const tracksDone = sonicSections?.reduce((sum, s) => sum + (s.after ? s.after.analyzed - s.before.analyzed : 0), 0);
  const rates =
    tracksDone !== undefined && sonicSections?.some((s) => s.after) && hours > 0
      ? { tracksPerHour: Math.round(tracksDone / hours), ...(cost > 0 ? { tracksPerEuro: Math.round(tracksDone / cost) } : {}) }
      : undefined;
  const landing = job.report?.landed;
  const landed = landing && {
    ...landing,
    ...landedOutcome(landing.requestedAt, phaseRows),
  };
  return {
    ...(before ? { before } : {}),
    ...(before && input.after ? { libraries: diffLibraryStats(before, input.after), ...(input.shipped ? { librariesAsShipped: true } : {}) } : {}),
    ...(input.sonic
      ? { sonic: { ...input.sonic, percent: input.sonic.total > 0 ? Math.round((1000 * input.sonic.analyzed) / input.sonic.total) / 10 : 100 } }
      : {}),
    ...(sonicSections ? { sonicSections } : {}),
    ...(job.report?.estimate ? { estimate: job.report.estimate } : {}),
    ...(landed ? { landed } : {}),
    ...(rates ? { rates } : {}),
    ...(input.homeChanges ? { homeChanges: input.homeChanges } : {}),
    ...(input.homeDeletions && input.homeDeletions.length > 0 ? { homeDeletions: input.homeDeletions } : {}),
    phases,
    bytesMoved,
    hours: Math.round(hours * 100) / 100,
    cost: Math.round(cost * 100) / 100,
  };
}

/**
 * What a landing took (its order to the machine's deletion, to a tenth of a second: a local
 * landing takes under one, and whole seconds read 0) and which analyses it stopped or skipped
 * (the agent marks them `landed`).
 */
function landedOutcome(
  requestedAt: number,
  phases: { phase: PhaseName; state: string; finishedAt: number | undefined; summary: Record<string, unknown> | undefined }[],
): { actualSeconds?: number; unfinished: PhaseName[] } {
  const teardown = phases.find((p) => p.phase === 'teardown' && p.state === 'done');
  return {
    ...(teardown?.finishedAt !== undefined ? { actualSeconds: Math.round((teardown.finishedAt - requestedAt) / 100) / 10 } : {}),
    unfinished: phases.filter((p) => p.summary?.landed === true).map((p) => p.phase),
  };
}
