import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
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
 * asked, home's `Metadata/` and `Media/` read in place. GNU tar takes the two roots in one
 * archive (`-C` twice); nothing is ever written into the home folder.
 */
export async function createHomeSnapshot(pmsDir: string, workDir: string, options: { bundles: boolean }): Promise<HomeSnapshot> {
  rmSync(workDir, { recursive: true, force: true });
  const databases = join(workDir, DATABASES_DIR);
  mkdirSync(databases, { recursive: true, mode: 0o700 });
  for (const name of [MAIN_DB_NAME, BLOBS_DB_NAME]) {
    const source = join(pmsDir, DATABASES_DIR, name);
    if (existsSync(source)) await backupDatabase(source, join(databases, name));
  }
  const bundles = options.bundles ? ['Metadata', 'Media'].filter((folder) => existsSync(join(pmsDir, folder))) : [];
  const args = [
    '--format=posix',
    '--no-acls',
    '--no-xattrs',
    '--numeric-owner',
    '-C',
    workDir,
    '-c',
    'Plug-in Support',
    ...(bundles.length > 0 ? ['-C', pmsDir, ...bundles] : []),
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
