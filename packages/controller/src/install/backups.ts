import { chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { MAIN_DB_NAME, BLOBS_DB_NAME, DATABASES_DIR, SIDECAR_SUFFIXES } from '@plexlift/shared/plex-db';

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
  const copy = (rel: string) => {
    mkdirSync(dirname(join(files, rel)), { recursive: true });
    copyFileSync(join(pmsDir, rel), join(files, rel));
  };
  const databases = DATABASE_FILES.filter((rel) => existsSync(join(pmsDir, rel)));
  databases.forEach(copy);
  const replaced: string[] = [];
  const created: string[] = [];
  const createdDirs = new Set<string>();
  for (const rel of filesUnder(stagedDir).filter((f) => !DATABASE_FILES.includes(f))) {
    if (existsSync(join(pmsDir, rel))) {
      copy(rel);
      replaced.push(rel);
    } else {
      created.push(rel);
      for (let folder = dirname(rel); folder !== '.' && !existsSync(join(pmsDir, folder)); folder = dirname(folder)) createdDirs.add(folder);
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

/** Puts `pmsDir` back as it was before the install the backup was made for. */
export function restoreBackup(pmsDir: string, backup: Backup): void {
  const { manifest } = backup;
  const files = join(backup.dir, 'files');
  for (const rel of DATABASE_FILES) rmSync(join(pmsDir, rel), { force: true });
  for (const rel of manifest.created) rmSync(join(pmsDir, rel), { force: true });
  for (const folder of [...manifest.createdDirs].reverse()) {
    try {
      rmdirSync(join(pmsDir, folder));
    } catch {
      // not empty: Plex put something of its own there since; leave it
    }
  }
  for (const rel of [...manifest.databases, ...manifest.replaced]) {
    mkdirSync(dirname(join(pmsDir, rel)), { recursive: true });
    copyFileSync(join(files, rel), join(pmsDir, rel));
    chownSync(join(pmsDir, rel), manifest.owner.uid, manifest.owner.gid);
  }
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
  if (!existsSync(backupsRoot)) return [];
  const kept = new Set(
    listBackups(backupsRoot)
      .slice(0, keep)
      .map((b) => b.dir),
  );
  const removed = readdirSync(backupsRoot)
    .map((name) => join(backupsRoot, name))
    .filter((dir) => statSync(dir).isDirectory() && !kept.has(dir));
  for (const dir of removed) rmSync(dir, { recursive: true, force: true });
  return removed;
}

/** Written once the new files are in: a resumed install knows the apply finished. */
export function markInstalled(backup: Backup): void {
  writeFileSync(join(backup.dir, 'installed.json'), `${JSON.stringify({ at: new Date().toISOString() })}\n`);
}

export function isInstalled(backup: Backup): boolean {
  return existsSync(join(backup.dir, 'installed.json'));
}

/** The backup an install of `jobId` made, if any. */
export function findJobBackup(backupsRoot: string, jobId: string): Backup | undefined {
  return listBackups(backupsRoot).find((b) => b.manifest.jobId === jobId);
}
