import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import { PlexliftError } from '@plexlift/shared';

/**
 * Every path the install and the rollback touch beneath the home `…/Plex Media Server`, taken
 * without following links. They run as root while the folder is writable by the Plex user (or
 * a Plex container): a link planted at `Metadata/evil` once made the install replace and chown a
 * root-owned file outside it (issue 16, item 1). So each component is checked with `lstat`,
 * files are opened with `O_NOFOLLOW`, owners are set with `fchown` on the opened file, and a new
 * file is renamed into place (which replaces a link instead of writing through it).
 */

export type HomeEntryKind = 'missing' | 'file' | 'folder' | 'link' | 'other';

export interface Owner {
  uid: number;
  gid: number;
}

function kindAt(path: string): HomeEntryKind {
  try {
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) return 'link';
    if (stat.isDirectory()) return 'folder';
    return stat.isFile() ? 'file' : 'other';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
}

const NAMES: Record<HomeEntryKind, string> = { missing: 'nothing', file: 'a file', folder: 'a folder', link: 'a symbolic link', other: 'a special file' };

/** The refusal for `found` at `rel` where `expected` belongs; nothing at home was changed by then. */
export function wrongHomeEntry(rel: string, found: HomeEntryKind, expected: 'file' | 'folder', why = ''): PlexliftError {
  const links = found === 'link' ? ' (plexlift never follows links in the Plex folder: they could point anywhere, and it runs as root)' : '';
  return new PlexliftError(
    'SAFETY_STOP',
    `home Plex folder: "${rel}" is ${NAMES[found]} where ${NAMES[expected]} is expected${why}${links}; nothing at home was changed`,
    {
      details: { path: rel },
    },
  );
}

/**
 * What is at `rel` beneath `pmsDir`, its last component not followed. A link or anything but a
 * folder on the way there is refused.
 */
export function inspectHomePath(pmsDir: string, rel: string): HomeEntryKind {
  const parts = rel.split(sep);
  for (let i = 1; i <= parts.length; i++) {
    const here = parts.slice(0, i).join(sep);
    const kind = kindAt(join(pmsDir, here));
    if (kind === 'missing' || i === parts.length) return kind;
    if (kind !== 'folder') throw wrongHomeEntry(here, kind, 'folder');
  }
  return 'folder';
}

/**
 * Makes `relFolder` a real folder, creating what is missing with the home owner. A link or a file
 * on the way is refused, never replaced: a linked folder may hold what the user meant to keep.
 */
function ensureHomeFolder(pmsDir: string, relFolder: string, owner: Owner): void {
  if (relFolder === '.' || relFolder === '') return;
  const parts = relFolder.split(sep);
  for (let i = 1; i <= parts.length; i++) {
    const here = parts.slice(0, i).join(sep);
    const path = join(pmsDir, here);
    const kind = kindAt(path);
    if (kind === 'missing') {
      mkdirSync(path, { mode: 0o755 });
      lchownSync(path, owner.uid, owner.gid);
    } else if (kind !== 'folder') throw wrongHomeEntry(here, kind, 'folder');
  }
}

function copyFd(from: number, to: number): void {
  const buffer = Buffer.allocUnsafe(1 << 20);
  for (;;) {
    const read = readSync(from, buffer, 0, buffer.length, null);
    if (read === 0) return;
    for (let written = 0; written < read;) written += writeSync(to, buffer, written, read - written);
  }
}

/** Opens a file for reading without following a link at its last component. */
function openRegular(path: string, what: string): number {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new PlexliftError('SAFETY_STOP', `${what} "${path}" is not a regular file; nothing was installed`);
  }
  return fd;
}

/**
 * Puts a copy of `source` at `rel`, owned by `owner` with the source's mode: written to a new
 * file beside it and renamed over whatever link or file was there.
 */
export function writeHomeFile(pmsDir: string, rel: string, source: string, owner: Owner): void {
  ensureHomeFolder(pmsDir, dirname(rel), owner);
  const target = join(pmsDir, rel);
  const temporary = join(dirname(target), `.plexlift-${basename(rel)}.tmp`);
  rmSync(temporary, { force: true });
  const from = openRegular(source, 'the file to install');
  try {
    const to = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      copyFd(from, to);
      fchownSync(to, owner.uid, owner.gid);
      fchmodSync(to, fstatSync(from).mode & 0o777);
    } finally {
      closeSync(to);
    }
    renameSync(temporary, target);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  } finally {
    closeSync(from);
  }
}

/** Copies the regular file at `rel` (never through a link) to `destination`. */
export function copyHomeFile(pmsDir: string, rel: string, destination: string): void {
  const kind = inspectHomePath(pmsDir, rel);
  if (kind !== 'file') throw wrongHomeEntry(rel, kind, 'file');
  const from = openRegular(join(pmsDir, rel), 'home file');
  try {
    mkdirSync(dirname(destination), { recursive: true });
    const to = openSync(destination, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
    try {
      copyFd(from, to);
    } finally {
      closeSync(to);
    }
  } finally {
    closeSync(from);
  }
}

/**
 * Removes whatever is at `rel` (a link itself, never its target; a folder with its content). An
 * entry behind a link or a file on the way is not beneath the Plex folder: left alone.
 */
export function removeHomeEntry(pmsDir: string, rel: string): void {
  try {
    if (dirname(rel) !== '.' && inspectHomePath(pmsDir, dirname(rel)) !== 'folder') return;
  } catch (error) {
    if (error instanceof PlexliftError) return;
    throw error;
  }
  rmSync(join(pmsDir, rel), { recursive: true, force: true });
}
