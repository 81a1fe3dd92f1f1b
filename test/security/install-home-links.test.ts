import { lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listBackups, restoreBackup, type Backup } from '../../packages/controller/src/install/backups.js';
import { installArchive } from '../../packages/controller/src/install/home-install.js';
import { cloudResult } from '../utils/cloud-result.js';
import { homeInstallOptions } from '../utils/home-install-options.js';
import { libraryFingerprint } from '../utils/home-plex.js';
import { startHomePlex } from '../utils/home-plex-fixture.js';
import { createTempDir } from '../utils/temp-dir.js';

// Issue 16, item 1: the install and the rollback run as root in a folder the Plex user can write.
const PLEX_OWNER = { uid: 4242, gid: 4242 };
const BIF = join('Media', 'localhost', 'a', 'bcdef.bundle', 'Contents', 'Indexes', 'index-sd.bif');

/** A root-owned file and folder outside the Plex folder, as a planted link would aim at. */
function outside() {
  const dir = createTempDir('outside-');
  writeFileSync(join(dir, 'shadow'), 'root secret\n', { mode: 0o600 });
  mkdirSync(join(dir, 'folder'));
  return { file: join(dir, 'shadow'), folder: join(dir, 'folder') };
}

describe('the home install never follows a link in the Plex folder', () => {
  it.each([
    ['a file the archive writes', BIF, 'file' as const],
    ['a folder on the way to it', join('Media', 'localhost', 'a'), 'folder' as const],
  ])('a link at %s: refused by name before Plex stops, the target untouched', async (_, rel, kind) => {
    const home = await startHomePlex();
    const archive = await cloudResult(home, 1);
    const target = outside();
    mkdirSync(join(home.paths.pms, rel, '..'), { recursive: true });
    symlinkSync(kind === 'file' ? target.file : target.folder, join(home.paths.pms, rel));
    const before = libraryFingerprint(home.paths.pms);
    const options = {
      ...homeInstallOptions({ pmsDir: home.paths.pms, control: home.control, url: home.url }, archive, { startTimeoutMs: 4_000 }),
      owner: PLEX_OWNER,
    };

    await expect(installArchive(options)).rejects.toMatchObject({
      code: 'SAFETY_STOP',
      message: expect.stringContaining(`home Plex folder: "${rel}" is a symbolic link where a ${kind} is expected`),
    });
    expect(home.calls).toEqual([]);
    expect(readFileSync(target.file, 'utf8')).toBe('root secret\n');
    expect(statSync(target.file).uid).toBe(0);
    expect(readdirSync(target.folder)).toEqual([]);
    expect(libraryFingerprint(home.paths.pms)).toEqual(before);
    expect(listBackups(options.backupsDir)).toEqual([]);
  });
});

/** A backup that put `Metadata/Movies/x/Info.xml` back, as an install that replaced it made. */
function backupOf(rel: string): Backup {
  const dir = createTempDir('backup-');
  mkdirSync(join(dir, 'files', rel, '..'), { recursive: true });
  writeFileSync(join(dir, 'files', rel), 'the old Info.xml\n');
  const manifest = { version: 1 as const, jobId: 'job-0001', createdAt: '', databases: [], replaced: [rel], created: [], createdDirs: [], owner: PLEX_OWNER };
  return { dir, manifest };
}

describe('the rollback never follows a link in the Plex folder', () => {
  const INFO = join('Metadata', 'Movies', 'x', 'Info.xml');

  it('a link where the backup puts a file is replaced by the file, its target untouched', () => {
    const pms = createTempDir('pms-');
    const target = outside();
    mkdirSync(join(pms, INFO, '..'), { recursive: true });
    symlinkSync(target.file, join(pms, INFO));

    restoreBackup(pms, backupOf(INFO));

    expect(readFileSync(target.file, 'utf8')).toBe('root secret\n');
    expect(statSync(target.file).uid).toBe(0);
    expect(lstatSync(join(pms, INFO)).isFile()).toBe(true);
    expect(readFileSync(join(pms, INFO), 'utf8')).toBe('the old Info.xml\n');
    expect(statSync(join(pms, INFO))).toMatchObject(PLEX_OWNER);
  });

  it('a link where the backup needs a folder is refused by name before anything is removed', () => {
    const pms = createTempDir('pms-');
    const target = outside();
    mkdirSync(join(pms, 'Metadata'));
    symlinkSync(target.folder, join(pms, 'Metadata', 'Movies'));
    mkdirSync(join(pms, 'Plug-in Support', 'Databases'), { recursive: true });
    writeFileSync(join(pms, 'Plug-in Support', 'Databases', 'com.plexapp.plugins.library.db'), 'the new DB');

    expect(() => restoreBackup(pms, backupOf(INFO))).toThrow(/home Plex folder: "Metadata\/Movies" is a symbolic link where .* nothing was restored/);
    expect(readdirSync(target.folder)).toEqual([]);
    expect(readFileSync(join(pms, 'Plug-in Support', 'Databases', 'com.plexapp.plugins.library.db'), 'utf8')).toBe('the new DB');
  });
});
