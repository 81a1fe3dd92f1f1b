import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { PlexliftError } from '@plexlift/shared';
import { MAIN_DB_NAME, BLOBS_DB_NAME, DATABASES_DIR, SIDECAR_SUFFIXES } from '@plexlift/shared/plex-db';
import { copyHomeFile, inspectHomePath, removeHomeEntry, writeHomeFile } from './home-paths.js';

/** The DB files an install replaces as a whole (sidecars included: they belong to the old DB). */
export const DATABASE_FILES = [MAIN_DB_NAME, BLOBS_DB_NAME].flatMap((name) => ['', ...SIDECAR_SUFFIXES].map((suffix) => join(DATABASES_DIR, name + suffix)));

/**
 * What a backup holds and how to undo an install with it: the DB files as they were, a copy of
 * every home file the install overwrote, and the files and folders it added (removed on
 * rollback). Small whatever the library: untouched `Metadata/` is not copied.
 */
export interface BackupManifest {
  version: 1;
  jobId: string;
  createdAt: string;
  /** DB files that existed (copied into `files/`). */
  databases: string[];
  /** Other files that existed and are overwritten (copied into `files/`). */
  replaced: string[];
  /** Files and folders that did not exist, deepest last. */
  created: string[];
  createdDirs: string[];
  owner: { uid: number; gid: number };
}

export interface Backup {
  dir: string;
  manifest: BackupManifest;
}

/** Lists the files under `root`, relative to it. */
export function filesUnder(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
}

/**
 * Backs up what installing `stagedDir` over `pmsDir` would change. The manifest is written last:
 * a folder without one is an interrupted backup and is never restored from.
 */
export function createBackup(pmsDir: string, stagedDir: string, backupsRoot: string, jobId: string, owner: { uid: number; gid: number }): Backup {
  const createdAt = new Date().toISOString();
  const dir = join(backupsRoot, `${createdAt.replace(/[:.]/g, '-')}-${jobId}`);
  const files = join(dir, 'files');
  mkdirSync(files, { recursive: true, mode: 0o700 });
  try {
    return writeBackup(pmsDir, stagedDir, { dir, jobId, createdAt, owner });
  } catch (error) {
    // A backup cut short (no space, an unreadable file) is never left to look like one.
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function writeBackup(pmsDir: string, stagedDir: string, at: { dir: string; jobId: string; createdAt: string; owner: { uid: number; gid: number } }): Backup {
  const { dir, jobId, createdAt, owner } = at;
  const files = join(dir, 'files');
  // Nothing is read through a link: the staging check refused them, and a copy never follows one.
  const copy = (rel: string) => copyHomeFile(pmsDir, rel, join(files, rel));
  const exists = (rel: string) => inspectHomePath(pmsDir, rel) !== 'missing';
  const databases = DATABASE_FILES.filter(exists);
  databases.forEach(copy);
  const replaced: string[] = [];
  const created: string[] = [];
  const createdDirs = new Set<string>();
  for (const rel of filesUnder(stagedDir).filter((f) => !DATABASE_FILES.includes(f))) {
    if (exists(rel)) {
      copy(rel);
      replaced.push(rel);
    } else {
      created.push(rel);
      for (let folder = dirname(rel); folder !== '.' && !exists(folder); folder = dirname(folder)) createdDirs.add(folder);
    }
  }
  const manifest: BackupManifest = {
    version: 1,
    jobId,
    createdAt,
    databases,
    replaced,
    created,
    createdDirs: [...createdDirs].sort((a, b) => a.length - b.length),
    owner,
  };
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  return { dir, manifest };
}

/**
 * Puts `pmsDir` back as it was before the install the backup was made for. The backup is checked
 * whole before anything is removed (a rollback once deleted the library DB, then failed on the
 * next file), and each entry goes back as the file it was, whatever stands there now: a folder,
 * a link (replaced, never followed) or another file. Running it again gives the same result.
 */
export function restoreBackup(pmsDir: string, backup: Backup): void {
  const { manifest } = backup;
  const files = join(backup.dir, 'files');
  const kept = [...manifest.databases, ...manifest.replaced];
  for (const rel of kept) {
    const isFile = existsSync(join(files, rel)) && lstatSync(join(files, rel)).isFile();
    if (!isFile)
      throw new PlexliftError('SAFETY_STOP', `the backup ${backup.dir} is incomplete: files/${rel} is missing or not a file; nothing was restored from it`);
    // A link or a file where a folder is on the way: refused here, before anything is removed.
    if (dirname(rel) !== '.') checkFolderChain(pmsDir, dirname(rel));
  }
  for (const rel of DATABASE_FILES) removeHomeEntry(pmsDir, rel);
  for (const rel of manifest.created) removeHomeEntry(pmsDir, rel);
  for (const folder of [...manifest.createdDirs].reverse()) {
    try {
      if (inspectHomePath(pmsDir, folder) === 'folder') rmdirSync(join(pmsDir, folder));
    } catch {
      // not empty (Plex put something of its own there since), or not beneath the Plex folder: leave it
    }
  }
  for (const rel of kept) {
    const found = join(pmsDir, rel);
    if (existsSync(found) && lstatSync(found).isDirectory()) removeHomeEntry(pmsDir, rel);
    writeHomeFile(pmsDir, rel, join(files, rel), manifest.owner);
  }
}

function checkFolderChain(pmsDir: string, folder: string): void {
  let found: string;
  try {
    found = inspectHomePath(pmsDir, folder);
  } catch (error) {
    const path = error instanceof PlexliftError ? error.details?.path : undefined;
    if (typeof path !== 'string') throw error;
    throw rollbackRefused(path, lstatSync(join(pmsDir, path)).isSymbolicLink() ? 'link' : 'other');
  }
  if (found !== 'missing' && found !== 'folder') throw rollbackRefused(folder, found);
}

function rollbackRefused(rel: string, found: string): PlexliftError {
  return new PlexliftError(
    'SAFETY_STOP',
    `home Plex folder: "${rel}" is ${found === 'link' ? 'a symbolic link' : 'not a folder'} where the backup puts a folder (plexlift never writes through links in the Plex folder); nothing was restored: replace it with a real folder and run plexlift rollback`,
    { details: { path: rel } },
  );
}

/** Complete backups, newest first. */
export function listBackups(backupsRoot: string): Backup[] {
  if (!existsSync(backupsRoot)) return [];
  return readdirSync(backupsRoot)
    .map((name) => join(backupsRoot, name))
    .filter((dir) => existsSync(join(dir, 'manifest.json')))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as BackupManifest }))
    .sort((a, b) => (a.manifest.createdAt < b.manifest.createdAt ? 1 : -1));
}

/** Keeps the newest `keep` backups (and drops interrupted ones); returns what was deleted. */
export function pruneBackups(backupsRoot: string, keep: number): string[] {
  const removed = prunableBackups(backupsRoot, keep);
  for (const dir of removed) rmSync(dir, { recursive: true, force: true });
  return removed;
}

/** What `pruneBackups` would remove: every folder but the newest `keep` complete backups. */
export function prunableBackups(backupsRoot: string, keep: number): string[] {
  if (!existsSync(backupsRoot)) return [];
  const kept = new Set(
    listBackups(backupsRoot)
      .slice(0, keep)
      .map((b) => b.dir),
  );
  return readdirSync(backupsRoot)
    .map((name) => join(backupsRoot, name))
    .filter((dir) => statSync(dir).isDirectory() && !kept.has(dir));
}

/** Written once the new files are in: a resumed install knows the apply finished. */
export function markInstalled(backup: Backup): void {
  writeFileSync(join(backup.dir, 'installed.json'), `${JSON.stringify({ at: new Date().toISOString() })}\n`);
}

export function isInstalled(backup: Backup): boolean {
  return existsSync(join(backup.dir, 'installed.json'));
}

/** Why an install is being undone, written before the first file is put back. */
export interface RollbackMark {
  at: string;
  code: string;
  reason: string;
}

/**
 * Written before a rollback restores anything: a controller that stops in the middle finds it
 * at the resume, finishes the rollback and ends the job failed (an `installed.json` alone once
 * made it report the half-undone install as done and discard the archive).
 */
export function markRollingBack(backup: Backup, failure: { code: string; message: string }): void {
  const mark: RollbackMark = { at: new Date().toISOString(), code: failure.code, reason: failure.message };
  writeFileSync(join(backup.dir, 'rolling-back.json'), `${JSON.stringify(mark)}\n`, { mode: 0o600 });
}

export function readRollbackMark(backup: Backup): RollbackMark | undefined {
  const file = join(backup.dir, 'rolling-back.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RollbackMark) : undefined;
}

/** The backup an install of `jobId` made, if any. */
export function findJobBackup(backupsRoot: string, jobId: string): Backup | undefined {
  return listBackups(backupsRoot).find((b) => b.manifest.jobId === jobId);
}

/**
 * Takes the backup of an earlier install of `jobId` out of that job's name (it stays a backup of
 * home, listed and kept like the others): another attempt makes its own, and a resume of that
 * attempt must never take the earlier one, its rollback mark included, for its own.
 */
export function retireJobBackup(backupsRoot: string, jobId: string): void {
  for (const backup of listBackups(backupsRoot).filter((b) => b.manifest.jobId === jobId)) {
    const manifest = { ...backup.manifest, jobId: `${jobId} (an earlier attempt)` };
    writeFileSync(join(backup.dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  }
}
