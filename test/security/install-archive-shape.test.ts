import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupDatabase, BLOBS_DB_NAME, DATABASES_DIR, MAIN_DB_NAME } from '@plexlift/shared/plex-db';
import { listBackups } from '../../packages/controller/src/install/backups.js';
import { installArchive } from '../../packages/controller/src/install/home-install.js';
import { homeInstallOptions } from '../utils/home-install-options.js';
import { libraryFingerprint, type HomePlex } from '../utils/home-plex.js';
import { startHomePlex } from '../utils/home-plex-fixture.js';
import { createTempDir } from '../utils/temp-dir.js';

type Shape = 'blobs-folder' | 'no-blobs' | 'file-for-folder' | 'not-plex';

/**
 * An archive a compromised VM could send: home's own library (so it would pass every count),
 * reshaped. Issue 16, items 24 and 26.
 */
async function reshapedArchive(home: HomePlex, shape: Shape): Promise<string> {
  const dir = createTempDir('reshaped-');
  const stage = join(dir, 'stage');
  const databases = join(stage, DATABASES_DIR);
  mkdirSync(databases, { recursive: true });
  if (shape === 'not-plex') {
    execFileSync('python3', [
      '-c',
      'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("CREATE TABLE t (x)"); c.commit()',
      join(databases, MAIN_DB_NAME),
    ]);
  } else await backupDatabase(join(home.paths.databases, MAIN_DB_NAME), join(databases, MAIN_DB_NAME));
  if (shape === 'blobs-folder') {
    mkdirSync(join(databases, BLOBS_DB_NAME));
    writeFileSync(join(databases, BLOBS_DB_NAME, 'x'), 'x');
  } else if (shape !== 'no-blobs') await backupDatabase(join(home.paths.databases, BLOBS_DB_NAME), join(databases, BLOBS_DB_NAME));
  if (shape === 'file-for-folder') {
    mkdirSync(join(stage, 'Metadata'));
    writeFileSync(join(stage, 'Metadata', 'Movies'), 'a file named like a section folder');
  }
  const tar = join(dir, 'archive.tar');
  execFileSync('tar', ['-C', stage, '-cf', tar, ...(shape === 'file-for-folder' ? ['Plug-in Support', 'Metadata'] : ['Plug-in Support'])]);
  execFileSync('zstd', ['-q', tar, '-o', `${tar}.zst`]);
  return `${tar}.zst`;
}

describe('the staging check holds the archive to the library layout and to home', () => {
  it.each([
    [
      'the blobs DB as a folder',
      'blobs-folder',
      /the archive holds Plug-in Support\/Databases\/com\.plexapp\.plugins\.library\.blobs\.db as something other than a file \(folder\)/,
    ],
    ['no blobs DB', 'no-blobs', /the archive holds no Plug-in Support\/Databases\/com\.plexapp\.plugins\.library\.blobs\.db/],
    ['a file where home has a section folder', 'file-for-folder', /the archive holds a file at "Metadata\/Movies" where home has a folder/],
    [
      'a SQLite DB that is not a Plex library',
      'not-plex',
      /com\.plexapp\.plugins\.library\.db is a SQLite database but not a Plex library \(no library_sections, metadata_items, media_items, media_parts table\)/,
    ],
  ] as const)('%s: a safety stop before Plex stops, home byte-identical', async (_, shape, reason) => {
    const home = await startHomePlex();
    expect(Object.keys(libraryFingerprint(home.paths.pms)).some((path) => path.startsWith('Metadata/Movies/'))).toBe(true);
    const archive = await reshapedArchive(home, shape);
    const before = libraryFingerprint(home.paths.pms);
    const options = homeInstallOptions({ pmsDir: home.paths.pms, control: home.control, url: home.url }, archive, { startTimeoutMs: 4_000 });

    await expect(installArchive(options)).rejects.toMatchObject({ code: 'SAFETY_STOP', message: expect.stringMatching(reason) });
    expect(home.calls).toEqual([]);
    expect(libraryFingerprint(home.paths.pms)).toEqual(before);
    expect(listBackups(options.backupsDir)).toEqual([]);
  });
});
