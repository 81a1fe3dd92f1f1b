import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
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
 * asked, home's `Metadata/` and `Media/` read in place (a root that is itself a link, followed).
 * GNU tar takes them all in one archive (`-C` twice); nothing is ever written into the home folder.
 */
export async function createHomeSnapshot(pmsDir: string, workDir: string, options: { bundles: boolean }): Promise<HomeSnapshot> {
  rmSync(workDir, { recursive: true, force: true });
  const databases = join(workDir, DATABASES_DIR);
  mkdirSync(databases, { recursive: true, mode: 0o700 });
  for (const name of [MAIN_DB_NAME, BLOBS_DB_NAME]) {
    const source = join(pmsDir, DATABASES_DIR, name);
    if (existsSync(source)) await backupDatabase(source, join(databases, name));
  }
  const bundles = options.bundles ? BUNDLE_ROOTS.filter((folder) => existsSync(join(pmsDir, folder))).map((folder) => bundleRoot(pmsDir, folder)) : [];
  const args = [
    '--format=posix',
    '--no-acls',
    '--no-xattrs',
    '--numeric-owner',
    // Each root is read where it really is and named as home names it (S: link targets are kept as written).
    ...bundles.map((root) => `--transform=s${root.delimiter}^${sedEscape(root.member)}\\(/\\|$\\)${root.delimiter}${root.name}\\1${root.delimiter}S`),
    '-C',
    workDir,
    '-c',
    'Plug-in Support',
    ...(bundles.length > 0 ? ['-C', '/', ...bundles.map((root) => root.member)] : []),
  ];
  const tar = spawn('tar', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const zstd = spawn('zstd', ['-T0', '-3', '-q', '-c'], { stdio: ['pipe', 'pipe', 'pipe'] });
  tar.stdout.pipe(zstd.stdin);
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

/** The bundle folders a delta job's restore takes along with the DBs. */
const BUNDLE_ROOTS = ['Metadata', 'Media'] as const;

interface BundleRoot {
  /** Its name in the archive (and in the Plex folder). */
  name: string;
  /** Its real path relative to `/`, as tar reads it. */
  member: string;
  /** A character the path does not hold, to delimit tar's --transform expression. */
  delimiter: string;
}

/**
 * A bundle root, its own link followed: on a NAS the admin often moves `Metadata/` to another disk
 * and leaves a link in its place, and the VM's extraction (rightly) refuses links. Only the root
 * itself is resolved: links inside it stay links, as they were.
 */
function bundleRoot(pmsDir: string, name: string): BundleRoot {
  const path = join(pmsDir, name);
  const real = realpathSync(path);
  if (!statSync(real).isDirectory()) {
    throw new PlexliftError('PATH_INVALID', `home.plexDataDir: ${path} leads to ${real}, which is not a folder; Plex keeps its ${name} there`, {
      details: { field: 'home.plexDataDir', path, real },
    });
  }
  if (real === '/') throw new PlexliftError('PATH_INVALID', `home.plexDataDir: ${path} leads to /`, { details: { field: 'home.plexDataDir', path } });
  const delimiter = [',', '|', '#', '@', '%', ';', '!'].find((candidate) => !real.includes(candidate));
  if (!delimiter)
    throw new PlexliftError('PATH_INVALID', `home.plexDataDir: ${real} (${name}) holds every character tar could delimit it with`, { details: { path: real } });
  return { name, member: real.slice(1), delimiter };
}

/** `text` as a literal in a sed basic regular expression (its delimiter is a character it does not hold). */
function sedEscape(text: string): string {
  return text.replace(/[\\.*[\]^$]/g, '\\$&');
}
