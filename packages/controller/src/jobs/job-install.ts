import { join } from 'node:path';
import { Readable } from 'node:stream';
import { PlexliftError, toPlexliftError, type Config, type JobReport } from '@plexlift/shared';
import type { TableChange, UserStateMergeReport } from '@plexlift/shared/plex-db';
import type { PlaylistReplay } from '../install/playlist-replay.js';
import type { ChunkTransfers } from '../transfers/chunk-transfers.js';
import type { TransferRecord, TransferStore } from '../transfers/transfer-store.js';
import { retireJobBackup } from '../install/backups.js';
import { installArchive } from '../install/home-install.js';
import { createPlexControl } from '../install/plex-control.js';
import { readOnlineToken } from '../plex-account.js';
import type { JobRecord } from '../store/job-store.js';
import { transferIds } from './agent-job.js';
import { sonicOf, sonicSectionsOf } from './home-library.js';
import type { InstallRequest } from './job-control.js';
import type { JobJournal } from './job-journal.js';
import { buildJobReport } from './job-report.js';
import { describeInstallStep } from '../install/install-step-text.js';

export interface JobInstallContext {
  config: Config;
  journal: JobJournal;
  transfers: ChunkTransfers;
  transferStore: TransferStore;
}

/**
 * The install phase of a job whose archive is verified at home, then its report; the job ends
 * `done`. A job found `installing` (a controller stopped mid-install) is finished exactly once:
 * the install knows how to take up its own steps. The deletion cap is checked against home as it
 * is now; `--allow-deletions` (of the run, or of `plexlift install`) lets a loss through.
 */
export async function installJob(
  ready: JobRecord,
  transfer: TransferRecord,
  hourlyPrice: number,
  context: JobInstallContext,
  request: InstallRequest = { allowDeletions: false },
): Promise<void> {
  const { config, journal, transfers } = context;
  const home = config.home!;
  const resume = ready.state === 'installing';
  const job = resume ? ready : journal.move(ready, ready.state, 'installing');
  journal.event(job.id, { type: 'phase:start', phase: 'install' });
  const result = await installArchive({
    // An install that completed before the controller stopped is only checked again (Plex runs
    // and shows it): it never reads the archive, which an earlier version discarded at that point.
    archive: resume && installCompleted(journal, job.id) ? readWhenAsked(() => transfers.read(transfer.id)) : transfers.read(transfer.id),
    archiveBytes: transfer.bytes,
    jobId: job.id,
    pmsDir: home.plexDataDir,
    stagingDir: join(config.server.stateDir, 'install', job.id),
    backupsDir: home.backups.dir ?? join(config.server.stateDir, 'backups'),
    keepBackups: home.backups.keep,
    control: createPlexControl(home.control),
    plex: { url: home.plexUrl, token: home.plexToken ?? readOnlineToken(home.plexDataDir) },
    owner: home.owner,
    startTimeoutMs: home.startTimeoutSeconds * 1000,
    onStep: (step, detail) => journal.event(job.id, { type: 'phase:progress', phase: 'install', message: describeInstallStep(step, detail) }),
    deletions: { cap: job.spec.deletionCap, allow: job.spec.allowDeletions || request.allowDeletions },
    base: baseOf(context, job.id),
    plexVersion: job.spec.plex.version,
    resume,
  });
  const homeChanges = result.userState && summarizeHomeChanges(result.userState, result.playlists);
  const lost = result.homeDeletions.map(({ title, missing, total, limit, sample }) => ({ section: title, missing, total, limit, sample }));
  if (result.versionNote) journal.event(job.id, { type: 'log', level: 'info', message: result.versionNote });
  journal.event(job.id, {
    type: 'phase:complete',
    phase: 'install',
    summary: {
      backup: result.backup.dir,
      files: result.files,
      ...(lost.length > 0 ? { homeDeletions: lost } : {}),
      ...(homeChanges ? { homeChanges } : {}),
      ...(result.versionNote ? { plexVersion: result.versionNote } : {}),
    },
  });
  const report = buildJobReport({
    jobId: job.id,
    jobs: journal.jobs,
    transfers: context.transferStore,
    after: result.stats,
    sonic: sonicOf(home.plexDataDir),
    sonicSections: sonicSectionsOf(home.plexDataDir),
    hourlyPrice,
    homeChanges,
    homeDeletions: lost,
  });
  journal.move(job, 'installing', 'done', { report });
  // Done: the archive and the restore snapshot leave the disk. Not before: a controller stopped
  // in between resumes the job `installing`, and a crash after this is the start-up sweep's.
  transfers.release(job.id, 'done');
}

/** The job's starting snapshot (a delta job's restore archive), the base of the install's merge. */
function baseOf(context: JobInstallContext, jobId: string): (() => Readable) | undefined {
  const restore = transferIds(jobId).restore;
  return context.transferStore.get(restore)?.state === 'verified' ? () => context.transfers.read(restore) : undefined;
}

/** The merge as the report keeps it: only the tables home changed; nothing at all when home did nothing. */
function summarizeHomeChanges(merge: UserStateMergeReport & { notMerged: TableChange[] }, playlists: PlaylistReplay | undefined): JobReport['homeChanges'] {
  const tables = merge.tables.filter((t) => t.carried > 0 || t.removed > 0 || t.notCarried.length > 0);
  if (tables.length === 0 && merge.notMerged.length === 0 && !playlists) return undefined;
  return { tables, notMerged: merge.notMerged, ...(playlists ? { playlists } : {}) };
}

/** The job's history holds a completed install (not one skipped for `--no-install`). */
function installCompleted(journal: JobJournal, jobId: string): boolean {
  return journal.jobs
    .events(jobId, { types: ['phase:complete'] })
    .some(({ event }) => event.type === 'phase:complete' && event.phase === 'install' && event.summary.skipped !== true);
}

/** The job reached its install (and failed in it): its archive was verified at home. */
function installTried(journal: JobJournal, jobId: string): boolean {
  return journal.jobs.phases(jobId).some((p) => p.phase === 'install' && p.state === 'failed');
}

/** A stream that opens its source only once read (a resume may not need it). */
function readWhenAsked(open: () => Readable): Readable {
  return Readable.from(
    (async function* () {
      yield* open();
    })(),
  );
}

/**
 * The install of a job's verified archive, asked for later: a `--no-install` job, or a job that
 * failed with its archive kept (the deletion cap at install, a rollback), for another try. A
 * failure ends the job `failed` and is thrown.
 */
export async function installWaitingJob(jobId: string, hourlyPrice: number, context: JobInstallContext, request: InstallRequest): Promise<JobRecord> {
  const { journal, transferStore } = context;
  const job = journal.jobs.get(jobId);
  const transfer = transferStore.get(transferIds(jobId).export);
  const installable = job?.state === 'verified' || (job?.state === 'failed' && installTried(journal, jobId));
  if (!job || !installable || transfer?.state !== 'verified') {
    throw new PlexliftError(
      'BAD_ARGUMENT',
      `job ${jobId} has no verified archive waiting to be installed (it is ${job?.state ?? 'unknown'}${job?.error ? `: ${job.error.message}` : ''})`,
    );
  }
  const live = journal.jobs.live().find((other) => other.library === job.library && other.id !== jobId && other.state !== 'verified');
  if (live) throw new PlexliftError('BAD_ARGUMENT', `job ${live.id} is ${live.state} on this library; install job ${jobId} once it has ended`);
  if (job.state === 'failed') {
    // The last attempt's rollback did not finish: home must be put back by hand first.
    if (/so did the rollback/.test(job.error?.message ?? ''))
      throw new PlexliftError(
        'SAFETY_STOP',
        `the last install of job ${jobId} could not be rolled back (${job.error?.message ?? ''}); run plexlift rollback first`,
      );
    // Its backup is of home before that attempt: a resume of this one must never take it for its own.
    retireJobBackup(context.config.home?.backups.dir ?? join(context.config.server.stateDir, 'backups'), jobId);
  }
  try {
    await installJob(job, transfer, hourlyPrice, context, request);
  } catch (error) {
    const failure = toPlexliftError(error);
    journal.event(jobId, { type: 'phase:fail', phase: 'install', code: failure.code, message: failure.message });
    if (journal.jobs.get(jobId)?.state === 'installing') journal.end(jobId, failure);
    throw failure;
  }
  return journal.jobs.get(jobId)!;
}
