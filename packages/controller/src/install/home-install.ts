import { existsSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { isErrorCode, PlexliftError, toPlexliftError, type DeletionCap } from '@plexlift/shared';
import { extractArchive, PLEX_LIBRARY_ENTRIES } from '@plexlift/shared/archive';
import { PlexClient } from '@plexlift/shared/plex-api';
import {
  findProcessesHolding,
  mainDatabasePath,
  assertMergeable,
  mergeUserState,
  tablesChangedAtHome,
  METADATA_TYPE,
  readDatabase,
  readLibraryStats,
  type LibraryStats,
  type TableChange,
  type UserStateMergeReport,
} from '@plexlift/shared/plex-db';
import {
  createBackup,
  DATABASE_FILES,
  filesUnder,
  findJobBackup,
  isInstalled,
  markInstalled,
  markRollingBack,
  pruneBackups,
  readRollbackMark,
  restoreBackup,
  type Backup,
  type RollbackMark,
} from './backups.js';
import { extractCap } from './extract-cap.js';
import { checkHomeDeletions, type HomeLoss } from './home-deletion-guard.js';
import { replayPlaylists, type PlaylistReplay } from './playlist-replay.js';
import { checkPlexVersions } from './plex-version-check.js';
import { removeHomeEntry, writeHomeFile, type Owner } from './home-paths.js';
import type { PlexControl } from './plex-control.js';
import { checkStagedLibrary } from './staged-library.js';

export interface HomeInstallOptions {
  /** The verified archive, as a stream. */
  archive: Readable;
  /** Its size, when known: what it unpacks to is capped at a ratio to it (extract-cap.ts). */
  archiveBytes?: number | undefined;
  jobId: string;
  /** The home `…/Plex Media Server`. */
  pmsDir: string;
  /** Where the archive is unpacked and checked before home is touched. */
  stagingDir: string;
  backupsDir: string;
  keepBackups: number;
  control: PlexControl;
  plex: { url: string; token: string };
  owner?: { uid: number; gid: number } | undefined;
  startTimeoutMs: number;
  onStep?: (step: InstallStep, detail?: string) => void;
  /** The job's Plex version (what made the new library): home's must not be older. */
  plexVersion?: string | undefined;
  /** The deletion cap, checked against home before it is touched; `allow` is `--allow-deletions`. */
  deletions: { cap: DeletionCap; allow: boolean };
  /**
   * The snapshot the job started from (the restore archive of a delta job): what home changed
   * since, in its user-state tables, is merged onto the new library once Plex is stopped.
   */
  base?: (() => Readable) | undefined;
  /**
   * The controller restarted in the middle of this job's install: an apply that had finished is
   * only verified (never done twice); one cut short is undone from its backup and done again.
   */
  resume?: boolean;
}

type HomeInstallResultState = InstallResult['userState'];

export type InstallStep =
  'staging' | 'checking' | 'stopping' | 'merging' | 'backing-up' | 'installing' | 'starting' | 'verifying' | 'rolling-back' | 'restored' | 'done';

export interface InstallResult {
  backup: Backup;
  stats: LibraryStats;
  files: number;
  /** What home had that the installed library lacks, per section (within the cap, or allowed). */
  homeDeletions: HomeLoss[];
  /** What people did at home during the job, carried onto the new library (no base: none). */
  userState?: (UserStateMergeReport & { notMerged: TableChange[] }) | undefined;
  /** The playlists home made during the job, made again by the home Plex on the new library. */
  playlists?: PlaylistReplay | undefined;
  /** Said when the home Plex changed version during the job (and the install could go on). */
  versionNote?: string | undefined;
}

/** The leaf items of each section type, as Plex's API counts them. */
const LEAF = { movie: 'movie', show: 'episode', artist: 'track', photo: 'photo' } as const;

/**
 * Installs a library archive into the home Plex without ever leaving it damaged (DESIGN.md
 * safety rule 1): the archive is unpacked and checked in a staging folder first (a bad one never
 * touches home); then Plex is stopped, what will change is backed up, the new files go in with
 * the home owner, Plex starts and must answer with the archive's counts. Any failure after the
 * stop puts the backup back and starts Plex again. The home `Preferences.xml` is never touched.
 */
export async function installArchive(options: HomeInstallOptions): Promise<InstallResult> {
  const step = options.onStep ?? (() => undefined);
  if (options.resume) {
    const earlier = findJobBackup(options.backupsDir, options.jobId);
    const rollback = earlier && readRollbackMark(earlier);
    if (earlier && rollback) return finishRollback(options, earlier, rollback);
    if (earlier && isInstalled(earlier)) return finishEarlierInstall(options, earlier);
    if (earlier) {
      step('rolling-back', `${earlier.dir} (an install cut short)`);
      await options.control.stop().catch(() => undefined);
      await waitUntilReleased(options.pmsDir);
      restoreBackup(options.pmsDir, earlier);
      rmSync(earlier.dir, { recursive: true, force: true });
      // Home is as it was before the job, Plex included: an archive that now fails to stage
      // (changed on disk, refused) must not leave Plex stopped.
      step('starting', options.control.describe);
      await options.control.start();
    }
  }
  const baseDir = `${options.stagingDir}.base`;
  rmSync(options.stagingDir, { recursive: true, force: true });
  rmSync(baseDir, { recursive: true, force: true });
  try {
    step('staging');
    const extracted = await extractArchive(options.archive, options.stagingDir, {
      allow: PLEX_LIBRARY_ENTRIES,
      limit: extractCap(options.stagingDir, options.archiveBytes),
    });
    step('checking');
    const stats = await checkStagedLibrary(options.stagingDir, options.pmsDir);
    const homeDeletions = checkHomeDeletions({
      homeDb: mainDatabasePath(options.pmsDir),
      incomingDb: mainDatabasePath(options.stagingDir),
      cap: options.deletions.cap,
      allowDeletions: options.deletions.allow,
      jobId: options.jobId,
    });
    const versionNote =
      options.plexVersion === undefined
        ? undefined
        : checkPlexVersions({
            jobId: options.jobId,
            jobVersion: options.plexVersion,
            homeVersion: await homePlexVersion(options.plex),
            homeDb: mainDatabasePath(options.pmsDir),
            incomingDb: mainDatabasePath(options.stagingDir),
          });
    const owner = options.owner ?? ownerOf(mainDatabasePath(options.pmsDir));
    const base = options.base && (await stageBase(options.base(), baseDir));
    // Before the stop: what could make the merge misbehave, and the report's slow part.
    if (base) assertMergeable({ base, incoming: mainDatabasePath(options.stagingDir) });
    const notMerged = base ? tablesChangedAtHome({ base, home: mainDatabasePath(options.pmsDir) }) : [];

    step('stopping', options.control.describe);
    await options.control.stop();
    let backup: Backup;
    let userState: HomeInstallResultState;
    // Plex is stopped from here: a failure before the install (the DB still held, no space for
    // the backup, a merge that fails) starts it again, home unchanged.
    try {
      await waitUntilReleased(options.pmsDir);
      if (base) {
        step('merging', 'what home did during the job');
        userState = { ...mergeUserState({ base, home: mainDatabasePath(options.pmsDir), incoming: mainDatabasePath(options.stagingDir) }), notMerged };
        // The tables it wrote were checked by the merge; the library must count as it did.
        if (JSON.stringify(stagedStats(options.stagingDir)) !== JSON.stringify(stats))
          throw new PlexliftError('SAFETY_STOP', "the merge of what home did during the job changed the new library's counts; nothing was installed");
      }
      step('backing-up');
      backup = createBackup(options.pmsDir, options.stagingDir, options.backupsDir, options.jobId, owner);
    } catch (error) {
      return await startAgain(options, error);
    }
    try {
      step('installing');
      apply(options.stagingDir, options.pmsDir, owner);
      markInstalled(backup);
      step('starting', options.control.describe);
      await options.control.start();
      step('verifying');
      await verifyHomePlex(options.plex, stats, options.startTimeoutMs);
    } catch (error) {
      step('rolling-back', backup.dir);
      await rollBack(options, backup, error);
    }
    const made = userState?.playlists ?? [];
    const playlists =
      made.length > 0
        ? await replayPlaylists(options.plex, mainDatabasePath(options.pmsDir), made).catch(
            // The library is installed and answers: a playlist that cannot be made is said, never a reason to undo it.
            (error: unknown): PlaylistReplay => ({ carried: [], notCarried: made.map((p) => ({ title: p.title, reason: (error as Error).message })) }),
          )
        : undefined;
    pruneBackups(options.backupsDir, options.keepBackups);
    step('done');
    return { backup, stats, files: extracted.files, homeDeletions, userState, playlists, versionNote };
  } finally {
    rmSync(options.stagingDir, { recursive: true, force: true });
    rmSync(baseDir, { recursive: true, force: true });
  }
}

function stagedStats(stagingDir: string): LibraryStats {
  return readDatabase(mainDatabasePath(stagingDir), readLibraryStats);
}

/** The version the home Plex says it is, or undefined when it does not answer (stopped by its owner). */
async function homePlexVersion(plex: { url: string; token: string }): Promise<string | undefined> {
  try {
    return (await new PlexClient({ url: plex.url, token: plex.token, timeoutMs: 10_000 }).identity()).version;
  } catch {
    return undefined;
  }
}

/** The main DB of the job's starting snapshot, unpacked beside the staging folder (the merge's base). */
async function stageBase(archive: Readable, dir: string): Promise<string> {
  const main = mainDatabasePath(dir);
  const wanted = relative(dir, main);
  await extractArchive(archive, dir, { allow: PLEX_LIBRARY_ENTRIES, only: (path) => path === wanted });
  if (!existsSync(main)) throw new PlexliftError('SAFETY_STOP', `the job's starting snapshot holds no ${wanted}; nothing was installed`);
  return main;
}

/** The files went in before the controller stopped: make sure Plex runs and shows them. */
async function finishEarlierInstall(options: HomeInstallOptions, backup: Backup): Promise<InstallResult> {
  options.onStep?.('verifying', 'an install finished before the controller restarted');
  const stats = readDatabase(mainDatabasePath(options.pmsDir), readLibraryStats);
  try {
    await verifyHomePlex(options.plex, stats, 5_000);
  } catch {
    await options.control.start().catch(() => undefined);
    try {
      await verifyHomePlex(options.plex, stats, options.startTimeoutMs);
    } catch (error) {
      options.onStep?.('rolling-back', backup.dir);
      await rollBack(options, backup, error);
    }
  }
  options.onStep?.('done');
  return { backup, stats, files: 0, homeDeletions: [] };
}

/**
 * The controller stopped while a failed install was being undone: the rollback is finished and
 * the job fails with the reason it was rolled back for (its archive stays for another try).
 */
async function finishRollback(options: HomeInstallOptions, backup: Backup, mark: RollbackMark): Promise<never> {
  options.onStep?.('rolling-back', `${backup.dir} (a rollback cut short)`);
  const code = isErrorCode(mark.code) ? mark.code : 'UNEXPECTED';
  try {
    await rollbackToBackup({ ...options, backup });
  } catch (rollbackError) {
    throw new PlexliftError(
      'SAFETY_STOP',
      `install failed (${mark.reason}) and so did the rollback (${(rollbackError as Error).message}); the backup is in ${backup.dir}: run plexlift rollback`,
      { details: { backup: backup.dir } },
    );
  }
  throw new PlexliftError(
    code,
    `install failed (${mark.reason}); the controller stopped during the rollback, which is now finished: the previous library was put back from ${backup.dir} and Plex answers again`,
    { details: { backup: backup.dir, rolledBack: true } },
  );
}

/** Plex was stopped but nothing was installed: it is started again and the failure thrown. */
async function startAgain(options: HomeInstallOptions, cause: unknown): Promise<never> {
  const failure = toPlexliftError(cause);
  try {
    await options.control.start();
  } catch (startError) {
    throw new PlexliftError(
      'SAFETY_STOP',
      `${failure.message}; nothing was installed, but Plex could not be started again (${(startError as Error).message}): start it by hand`,
      { cause: failure },
    );
  }
  throw new PlexliftError(failure.code, `${failure.message}; nothing was installed and Plex was started again`, { cause: failure });
}

function ownerOf(path: string): { uid: number; gid: number } {
  const stats = statSync(existsSync(path) ? path : dirname(dirname(path)));
  return { uid: stats.uid, gid: stats.gid };
}

/** A stopped Plex has let go of its DB; its SQLite threads may take a moment. */
async function waitUntilReleased(pmsDir: string): Promise<void> {
  const files = DATABASE_FILES.map((rel) => join(pmsDir, rel));
  for (let i = 0; ; i++) {
    const holders = findProcessesHolding(files);
    if (holders.length === 0) return;
    if (i >= 600) {
      throw new PlexliftError(
        'DATABASE_IN_USE',
        `Plex was stopped but ${holders.map((h) => `${h.command} (pid ${h.pid})`).join(', ')} still holds the library DB; nothing was installed`,
      );
    }
    await sleep(100);
  }
}

/** Puts the staged files in, never through a link (home-paths.ts). */
function apply(stagingDir: string, pmsDir: string, owner: Owner): void {
  // The old DB's -wal/-shm must not meet the new DB.
  for (const rel of DATABASE_FILES) removeHomeEntry(pmsDir, rel);
  for (const rel of filesUnder(stagingDir)) writeHomeFile(pmsDir, rel, join(stagingDir, rel), owner);
}

/** Home Plex answers `/identity` and counts, per section, what the archive's DB holds. */
export async function verifyHomePlex(plex: { url: string; token: string }, stats: LibraryStats | undefined, timeoutMs: number): Promise<void> {
  const client = new PlexClient({ url: plex.url, token: plex.token });
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    try {
      await client.identity();
      const mismatches: string[] = [];
      for (const section of stats?.sections ?? []) {
        if (section.type === 'unknown') continue;
        const kind = LEAF[section.type];
        const counted = await client.count(String(section.id), METADATA_TYPE[kind]);
        if (counted !== section.counts[kind]) mismatches.push(`"${section.title}": Plex shows ${counted} ${kind}s, the archive holds ${section.counts[kind]}`);
      }
      if (mismatches.length === 0) return;
      last = mismatches.join('; ');
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline)
      throw new PlexliftError('PLEX_NOT_READY', `the home Plex did not come up with the new library in ${Math.round(timeoutMs / 1000)} s (${last})`);
    await sleep(500);
  }
}

async function rollBack(options: HomeInstallOptions, backup: Backup, cause: unknown): Promise<never> {
  const failure = toPlexliftError(cause);
  try {
    // Best effort: with the disk full the mark may not be written, and the rollback matters more.
    markRollingBack(backup, failure);
  } catch {
    // a crash now would be resumed as "installed" and verified against the new library instead
  }
  try {
    await rollbackToBackup({ ...options, backup });
  } catch (rollbackError) {
    throw new PlexliftError(
      'SAFETY_STOP',
      `install failed (${failure.message}) and so did the rollback (${(rollbackError as Error).message}); the backup is in ${backup.dir}: run plexlift rollback`,
      {
        cause: failure,
        details: { backup: backup.dir },
      },
    );
  }
  throw new PlexliftError(failure.code, `install failed (${failure.message}); the previous library was put back from ${backup.dir} and Plex answers again`, {
    cause: failure,
    details: { backup: backup.dir, rolledBack: true },
  });
}

/**
 * Puts a backup back with Plex stopped and started around it: `plexlift rollback`, and the
 * automatic rollback of a failed install. A stop that fails (Plex already down) is fine as long
 * as nothing holds the DB afterwards.
 */
export async function rollbackToBackup(options: {
  pmsDir: string;
  backup: Backup;
  control: PlexControl;
  plex: { url: string; token: string };
  startTimeoutMs: number;
  onStep?: ((step: InstallStep, detail?: string) => void) | undefined;
}): Promise<void> {
  await options.control.stop().catch(() => undefined);
  await waitUntilReleased(options.pmsDir);
  restoreBackup(options.pmsDir, options.backup);
  options.onStep?.('restored', options.backup.dir);
  await options.control.start();
  await verifyHomePlex(options.plex, undefined, options.startTimeoutMs);
}
