import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAIN_DB_NAME } from '@plexlift/shared/plex-db';
import { listBackups } from '../../packages/controller/src/install/backups.js';
import { installArchive, rollbackToBackup, type InstallStep } from '../../packages/controller/src/install/home-install.js';
import { cloudResult } from '../utils/cloud-result.js';
import { homeInstallOptions } from '../utils/home-install-options.js';
import { libraryFingerprint, type HomePlex } from '../utils/home-plex.js';
import { startHomePlex } from '../utils/home-plex-fixture.js';
import { readStatsOf } from '../utils/sqlite-files.js';
import { createTempDir } from '../utils/temp-dir.js';

function installOptions(home: HomePlex, archive: string, steps: InstallStep[] = [], onStep?: (step: InstallStep) => void) {
  return homeInstallOptions({ pmsDir: home.paths.pms, control: home.control, url: home.url }, archive, {
    startTimeoutMs: 4_000,
    steps,
    ...(onStep ? { onStep } : {}),
  });
}

/** A crafted archive (python's tarfile writes what GNU tar refuses to), zstd-compressed. */
function craftedArchive(kind: 'traversal' | 'absolute' | 'symlink' | 'hardlink' | 'device' | 'truncated'): string {
  const dir = createTempDir('crafted-');
  const tar = join(dir, 'evil.tar');
  const script = `
import io, os, sys, tarfile
kind, out = sys.argv[1], sys.argv[2]
with tarfile.open(out, 'w', format=tarfile.GNU_FORMAT) as t:
    def add(name, data=b'x', type=tarfile.REGTYPE, link=''):
        info = tarfile.TarInfo(name); info.type = type; info.linkname = link; info.size = len(data) if type == tarfile.REGTYPE else 0
        t.addfile(info, io.BytesIO(data) if type == tarfile.REGTYPE else None)
    add('Plug-in Support/Databases/com.plexapp.plugins.library.db', b'not a database' * 100)
    if kind == 'traversal': add('Metadata/../../../../escaped.txt')
    if kind == 'absolute': add('/tmp/plexlift-absolute.txt')
    if kind == 'symlink': add('Metadata/evil', type=tarfile.SYMTYPE, link='/etc')
    if kind == 'hardlink': add('Metadata/evil', type=tarfile.LNKTYPE, link='/etc/passwd')
    if kind == 'device': add('Media/null', type=tarfile.CHRTYPE)
    if kind == 'truncated': add('Metadata/big.bin', os.urandom(200000))
`;
  execFileSync('python3', ['-c', script, kind, tar]);
  const file = join(dir, 'evil.tar.zst');
  execFileSync('bash', ['-c', kind === 'truncated' ? 'zstd -q -c "$0" | head -c 30000 > "$1"' : 'zstd -q -c "$0" > "$1"', tar, file]);
  return file;
}

describe('the home install', () => {
  it('installs a verified archive: Plex stopped and started, a backup made, new files owned by the home user, the counts checked, Preferences.xml untouched', async () => {
    const home = await startHomePlex();
    const archive = await cloudResult(home, 2);
    const preferences = libraryFingerprint(home.paths.pms)['Preferences.xml'];
    const steps: InstallStep[] = [];
    const options = installOptions(home, archive, steps);
    const result = await installArchive(options);

    expect(steps).toEqual(['staging', 'checking', 'stopping', 'backing-up', 'installing', 'starting', 'verifying', 'done']);
    expect(home.calls).toEqual(['stop', 'start']);
    expect(readStatsOf(home.paths.mainDb).library.sections.map((s) => [s.title, s.counts.movie])).toEqual([['Movies', 6]]);
    expect(result.stats.sections[0]?.counts.movie).toBe(6);
    expect(libraryFingerprint(home.paths.pms)['Preferences.xml']).toBe(preferences);
    expect(listBackups(options.backupsDir)).toHaveLength(1);
    // The backup holds the old DBs and knows what the install added (the new films' posters, a preview).
    expect(result.backup.manifest).toMatchObject({
      jobId: 'job-0001',
      databases: expect.arrayContaining([join('Plug-in Support', 'Databases', MAIN_DB_NAME)]),
      replaced: [],
    });
    expect(result.backup.manifest.created).toContain(join('Media', 'localhost', 'a', 'bcdef.bundle', 'Contents', 'Indexes', 'index-sd.bif'));
    expect(result.backup.manifest.created.filter((f) => f.startsWith('Metadata/Movies/') && f.endsWith('Info.xml'))).toHaveLength(2);
    // Plex answers with the new library.
    const films = await fetch(`${home.url}/library/sections/1/all?type=1&X-Plex-Container-Start=0&X-Plex-Container-Size=0`, {
      headers: { Accept: 'application/json' },
    });
    expect(((await films.json()) as { MediaContainer: { totalSize: number } }).MediaContainer.totalSize).toBe(6);
  });

  it.each([
    ['traversal', /archive entry "Metadata\/\.\.\/\.\.\/\.\.\/\.\.\/escaped\.txt" refused: path leaves the target folder/],
    ['absolute', /archive entry "\/tmp\/plexlift-absolute\.txt" refused: absolute path/],
    ['symlink', /archive entry "Metadata\/evil" refused: symbolic link/],
    ['hardlink', /archive entry "Metadata\/evil" refused: hard link/],
    ['device', /archive entry "Media\/null" refused: CharacterDevice entry/],
    ['truncated', /archive could not be (extracted|decompressed)/],
  ] as const)('rejects a %s archive before touching home: Plex never stopped, every file byte-identical', async (kind, reason) => {
    const home = await startHomePlex();
    const before = libraryFingerprint(home.paths.pms);
    const options = installOptions(home, craftedArchive(kind));
    await expect(installArchive(options)).rejects.toMatchObject({ code: 'SAFETY_STOP', message: expect.stringMatching(reason) });
    expect(home.calls).toEqual([]);
    expect(libraryFingerprint(home.paths.pms)).toEqual(before);
    expect(listBackups(options.backupsDir)).toEqual([]);
  });

  it('a new library with which home Plex does not come up: the backup goes back byte-identical and Plex answers again', async () => {
    const home = await startHomePlex();
    const archive = await cloudResult(home, 1);
    home.failNextStart();
    // What the install can change, as it found it once Plex had stopped, and as the rollback left it.
    let before: Record<string, string> | undefined;
    let restored: Record<string, string> | undefined;
    const steps: InstallStep[] = [];
    const options = installOptions(home, archive, steps, (step) => {
      if (step === 'backing-up') before = libraryFingerprint(home.paths.pms);
      if (step === 'restored') restored = libraryFingerprint(home.paths.pms);
    });
    await expect(installArchive(options)).rejects.toMatchObject({
      code: 'PLEX_NOT_READY',
      message: expect.stringMatching(
        /^install failed \(the home Plex did not come up with the new library in 4 s .*\); the previous library was put back from .* and Plex answers again$/,
      ),
    });
    expect(steps).toEqual(['staging', 'checking', 'stopping', 'backing-up', 'installing', 'starting', 'verifying', 'rolling-back', 'restored']);
    expect(restored).toEqual(before);
    expect(Object.keys(before!).some((f) => f.startsWith('Metadata/'))).toBe(true);
    expect(home.calls).toEqual(['stop', 'start', 'stop', 'start']);
    expect((await fetch(`${home.url}/identity`)).status).toBe(200);
  });

  it('plexlift rollback puts the latest backup back on demand', async () => {
    const home = await startHomePlex();
    let before: Record<string, string> | undefined;
    const options = installOptions(home, await cloudResult(home, 1), [], (step) => {
      if (step === 'backing-up') before = libraryFingerprint(home.paths.pms);
    });
    const { backup } = await installArchive(options);
    expect(readStatsOf(home.paths.mainDb).library.sections[0]?.counts.movie).toBe(5);
    let restored: Record<string, string> | undefined;
    await rollbackToBackup({
      pmsDir: home.paths.pms,
      backup,
      control: home.control,
      plex: { url: home.url, token: 'home-token' },
      startTimeoutMs: 4_000,
      onStep: (step) => {
        if (step === 'restored') restored = libraryFingerprint(home.paths.pms);
      },
    });
    expect(restored).toEqual(before);
    expect(readStatsOf(home.paths.mainDb).library.sections[0]?.counts.movie).toBe(4);
  });
});
