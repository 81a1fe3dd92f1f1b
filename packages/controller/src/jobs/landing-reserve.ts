import { existsSync, statSync } from 'node:fs';
import { mainDatabasePath } from '@plexlift/shared/plex-db';
import type { PhaseName } from '@plexlift/shared/protocol';
import type { JobRecord, JobStore } from '../store/job-store.js';
import type { TransferStore } from '../transfers/transfer-store.js';
import { transferIds } from './agent-job.js';
import { upperMedian } from './medians.js';

/** What landing takes, part by part (seconds), and what the estimate rests on. */
export interface LandingReserve {
  seconds: number;
  parts: { plexStop: number; export: number; upload: number; teardown: number; margin: number };
  basis: string;
}

/** Without any measure: a home link's upload at 1 MB/s, an export at 20 MB/s, a Plex stop of 30 s, a cloud teardown of 90 s. */
const DEFAULTS = {
  uploadBytesPerSecond: 1_000_000,
  exportBytesPerSecond: 20_000_000,
  plexStopSeconds: 30,
  cloudTeardownSeconds: 90,
  localTeardownSeconds: 15,
  minTeardownSeconds: 5,
};
/** The estimate is stretched by this much before the margin: a link is never as fast as the last one. */
const STRETCH = 1.25;
/** Past runs of the library looked at. */
const HISTORY = 5;

/**
 * The time a job needs from the landing order to its machine's deletion: Plex stopped, the
 * export, its upload home and the teardown. Each part comes from the best measure there is: this
 * job's own restore (the same link, the slower direction for most homes: their upload), then the
 * library's past runs (medians), then conservative defaults; ×1.25, plus the configured margin.
 */
export function estimateLandingReserve(input: {
  job: JobRecord;
  jobs: JobStore;
  transfers: TransferStore;
  isCloud: boolean;
  marginSeconds: number;
}): LandingReserve {
  const { job, jobs } = input;
  const past = jobs
    .list({ limit: 50 })
    .filter((j) => j.id !== job.id && j.library === job.library && j.state === 'done' && j.report?.phases)
    .slice(0, HISTORY);
  const phaseSeconds = (j: JobRecord, phase: PhaseName) => j.report?.phases?.[phase]?.seconds;
  const basis: string[] = [];

  // How big the archive will be: about the library's DB, as this job's restore or the last exports measured it.
  const restored = input.transfers.get(transferIds(job.id).restore)?.bytes;
  const pastExport = upperMedian(past.map((j) => j.report?.bytesMoved?.export));
  const db = mainDatabasePath(job.library);
  const archiveBytes = restored ?? pastExport ?? (existsSync(db) ? statSync(db).size : 0);

  // The link: this job's restore rate, else the past uploads', else the default.
  const restoreSeconds = secondsOf(jobs, job.id, 'restore');
  const measured = restored !== undefined && restoreSeconds !== undefined && restoreSeconds > 0 ? restored / restoreSeconds : undefined;
  const pastUpload = upperMedian(past.map((j) => rate(j.report?.bytesMoved?.export, phaseSeconds(j, 'upload'))));
  if (measured !== undefined) basis.push('this job’s restore rate');
  else if (pastUpload === undefined) basis.push('no measured link rate yet (1 MB/s assumed)');
  const uploadRate = measured ?? pastUpload ?? DEFAULTS.uploadBytesPerSecond;
  if (past.length > 0) basis.push(`${past.length} past run${past.length === 1 ? '' : 's'} of this library`);

  const exportRate = upperMedian(past.map((j) => rate(j.report?.bytesMoved?.export, phaseSeconds(j, 'export')))) ?? DEFAULTS.exportBytesPerSecond;
  // Without a past run: Plex's own start in this job bounds its stop (a stop is the quicker of the
  // two), and the machine's provisioning its deletion (a create and boot outlast a delete).
  const plexStart = secondsOf(jobs, job.id, 'plex-start');
  const provisioned = secondsOf(jobs, job.id, 'provision');
  const parts = {
    plexStop: upperMedian(past.map((j) => phaseSeconds(j, 'plex-stop'))) ?? plexStart ?? DEFAULTS.plexStopSeconds,
    export: archiveBytes / exportRate,
    upload: archiveBytes / uploadRate,
    // Never below a floor: past phases are whole seconds, and a local one rounds to 0.
    teardown: Math.max(
      DEFAULTS.minTeardownSeconds,
      upperMedian(past.map((j) => phaseSeconds(j, 'teardown'))) ??
        provisioned ??
        (input.isCloud ? DEFAULTS.cloudTeardownSeconds : DEFAULTS.localTeardownSeconds),
    ),
    margin: input.marginSeconds,
  };
  const seconds = (parts.plexStop + parts.export + parts.upload + parts.teardown) * STRETCH + parts.margin;
  return { seconds: Math.ceil(seconds), parts: roundAll(parts), basis: basis.join('; ') || 'defaults' };
}

/** A phase's duration in this job (seconds), once it ended. */
function secondsOf(jobs: JobStore, jobId: string, phase: PhaseName): number | undefined {
  const row = jobs.phases(jobId).find((p) => p.phase === phase && p.state === 'done');
  return row?.startedAt !== undefined && row.finishedAt !== undefined ? (row.finishedAt - row.startedAt) / 1000 : undefined;
}

function rate(bytes: number | undefined, seconds: number | undefined): number | undefined {
  // Whole-second phase times: a sub-second phase says nothing of the rate.
  return bytes !== undefined && seconds !== undefined && seconds >= 1 ? bytes / seconds : undefined;
}

function roundAll<T extends Record<string, number>>(parts: T): T {
  return Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, Math.round(v * 10) / 10])) as T;
}
