import { spawn } from 'node:child_process';
import { closeSync, constants, existsSync, fstatSync, mkdirSync, openSync, readlinkSync, realpathSync, rmSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { PlexliftError } from '@plexlift/shared';
import { exitedCleanly, heldOutput } from '@plexlift/shared/archive';
import { backupDatabase, BLOBS_DB_NAME, DATABASES_DIR, MAIN_DB_NAME } from '@plexlift/shared/plex-db';

export interface HomeSnapshot {
  /** tar | zstd of the snapshot, produced as it is read. */
  stream: Readable;
  finished: Promise<void>;
}

/**
 * A consistent snapshot of the live home library for a delta job: the DBs through SQLite's
 * online backup (safe while home Plex runs: it never sees a torn page) into `workDir`, and, when
 * asked, home's `Metadata/` and `Media/` read in place (a root that is itself a link, followed
 * when it leads to the Plex user's own folder). GNU tar takes them all in one archive (`-C`
 * twice); nothing is ever written into the home folder.
 */
export async function createHomeSnapshot(pmsDir: string, workDir: string, options: HomeSnapshotOptions): Promise<HomeSnapshot> {
  rmSync(workDir, { recursive: true, force: true });
  const databases = join(workDir, DATABASES_DIR);
  mkdirSync(databases, { recursive: true, mode: 0o700 });
  for (const name of [MAIN_DB_NAME, BLOBS_DB_NAME]) {
    const source = join(pmsDir, DATABASES_DIR, name);
    if (existsSync(source)) await backupDatabase(source, join(databases, name));
  }
  const bundles: BundleRoot[] = [];
  try {
    if (options.bundles) for (const folder of BUNDLE_ROOTS) if (existsSync(join(pmsDir, folder))) bundles.push(bundleRoot(pmsDir, folder, options));
  } catch (error) {
    withClosed(bundles, () => undefined);
    throw error;
  }
  // tar gets each root's open folder as its fd 3, 4…, and reads it as /proc/self/fd/N/.: the very
  // folder checked, whatever is renamed or linked on its path meanwhile.
  const member = (index: number) => `${3 + index}/.`;
  const args = [
    '--format=posix',
    '--no-acls',
    '--no-xattrs',
    '--numeric-owner',
    // Each root is named as home names it (S: link targets are kept as written).
    ...bundles.map((root, index) => `--transform=s,^${3 + index}/\\.\\(/\\|$\\),${root.name}\\1,S`),
    '-C',
    workDir,
    '-c',
    'Plug-in Support',
    ...(bundles.length > 0 ? ['-C', '/proc/self/fd', ...bundles.map((_, index) => member(index))] : []),
  ];
  const tar = withClosed(bundles, () => spawn('tar', args, { stdio: ['ignore', 'pipe', 'pipe', ...bundles.map((root) => root.fd)] }));
  const zstd = spawn('zstd', ['-T0', '-3', '-q', '-c'], { stdio: ['pipe', 'pipe', 'pipe'] });
  tar.stdout!.pipe(zstd.stdin); // a pipe, as asked (its type is lost with the extra descriptors)
  const finished = Promise.all([exitedCleanly(tar, 'tar'), exitedCleanly(zstd, 'zstd')]).then(
    () => rmSync(workDir, { recursive: true, force: true }),
    (error: unknown) => {
      rmSync(workDir, { recursive: true, force: true });
      throw error;
    },
  );
  finished.catch(() => undefined);
  return { stream: heldOutput(zstd.stdout), finished };
}

export interface HomeSnapshotOptions {
  /** Whether `Metadata/` and `Media/` go along with the DBs. */
  bundles: boolean;
  /** The home Plex's user (`home.owner`); the owner of the Plex folder when absent. */
  owner?: { uid: number; gid: number } | undefined;
  /** The daemon's state folder: a bundle root's link never leads into it. */
  stateDir?: string | undefined;
}

/** The bundle folders a delta job's restore takes along with the DBs. */
const BUNDLE_ROOTS = ['Metadata', 'Media'] as const;

interface BundleRoot {
  /** Its name in the archive (and in the Plex folder). */
  name: string;
  /** The folder, opened (and checked) here; tar reads it through this descriptor. */
  fd: number;
}

/** Folders a bundle root's link never leads to (nor into): the system's, and plexlift's own. */
const SYSTEM_FOLDERS = ['/etc', '/root', '/proc', '/sys', '/dev', '/boot', '/usr', '/var/lib/plexlift'];

/**
 * A bundle root, its own link followed: on a NAS the admin often moves `Metadata/` to another disk
 * and leaves a link in its place, and the VM's extraction (rightly) refuses links. Only the root
 * itself is resolved: links inside it stay links, as they were. The link is the Plex user's to
 * make, and root reads what it leads to: it must lead to a folder of that user that only that user
 * (or its group) can change, out of the system's folders and of the Plex folder's own files.
 */
function bundleRoot(pmsDir: string, name: string, options: HomeSnapshotOptions): BundleRoot {
  const path = join(pmsDir, name);
  const real = realpathSync(path);
  const notFolder = () =>
    new PlexliftError('PATH_INVALID', `home.plexDataDir: ${path} leads to ${real}, which is not a folder; Plex keeps its ${name} there`, {
      details: { field: 'home.plexDataDir', path, real },
    });
  let fd: number;
  try {
    fd = openSync(real, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR' || (error as NodeJS.ErrnoException).code === 'ELOOP') throw notFolder();
    throw error;
  }
  try {
    checkBundleRoot(pmsDir, name, { path, real, fd }, options);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return { name, fd };
}

/** Refuses the opened root `fd` (at `real`) unless it is the Plex folder's own, or a link's target root may read. */
function checkBundleRoot(pmsDir: string, name: string, root: { path: string; real: string; fd: number }, options: HomeSnapshotOptions): void {
  const { path, real, fd } = root;
  const stats = fstatSync(fd);
  // What was opened is what was resolved: nothing was swapped on its path in between.
  if (readlinkSync(`/proc/self/fd/${fd}`) !== real) {
    throw new PlexliftError('SAFETY_STOP', `home.plexDataDir: ${path} changed while plexlift opened it (${real}); run the job again`, {
      details: { field: 'home.plexDataDir', path, real },
    });
  }
  const realPms = realpathSync(pmsDir);
  if (real !== join(realPms, name)) {
    const owner = options.owner ?? statSync(realPms);
    const refusal = linkRefusal(real, stats, { uid: owner.uid, gid: owner.gid }, [realPms, ...SYSTEM_FOLDERS, ...(options.stateDir ? [options.stateDir] : [])]);
    if (refusal) {
      throw new PlexliftError(
        'SAFETY_STOP',
        `home.plexDataDir: ${path} is a link to ${real}, ${refusal}; plexlift follows a bundle root's link only to a folder of the Plex user (uid ${owner.uid}) outside the system's folders`,
        { details: { field: 'home.plexDataDir', path, real } },
      );
    }
  }
}

/** Why root must not read the folder `real` a bundle root's link leads to; undefined when it may. */
function linkRefusal(
  real: string,
  stats: { uid: number; gid: number; mode: number },
  owner: { uid: number; gid: number },
  protectedFolders: string[],
): string | undefined {
  if (real === '/') return 'the whole system';
  for (const folder of protectedFolders) {
    const resolved = existsSync(folder) ? realpathSync(folder) : folder;
    if (isWithin(real, resolved)) return `which is inside ${resolved}`;
    if (isWithin(resolved, real)) return `which holds ${resolved}`;
  }
  if (stats.uid !== owner.uid) return `which belongs to uid ${stats.uid}, not the Plex user`;
  if (stats.mode & 0o002) return 'which anyone can write to';
  if (stats.mode & 0o020 && stats.gid !== owner.gid) return `which group ${stats.gid} can write to`;
  return undefined;
}

/** Whether `path` is `folder` or beneath it (both real). */
function isWithin(path: string, folder: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** `run`'s result; the roots' descriptors closed after it, whatever happens (a child holds its own copies). */
function withClosed<T>(roots: readonly BundleRoot[], run: () => T): T {
  try {
    return run();
  } finally {
    for (const root of roots) closeSync(root.fd);
  }
}
