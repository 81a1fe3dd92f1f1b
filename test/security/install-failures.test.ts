import { createReadStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listBackups } from '../../packages/controller/src/install/backups.js';
import { installArchive, type InstallStep } from '../../packages/controller/src/install/home-install.js';
import { cloudResult } from '../utils/cloud-result.js';
import { homeInstallOptions } from '../utils/home-install-options.js';
import { libraryFingerprint } from '../utils/home-plex.js';
import { startHomePlex } from '../utils/home-plex-fixture.js';
import { readStatsOf } from '../utils/sqlite-files.js';
import { createTempDir } from '../utils/temp-dir.js';

/** The library's files, less the -wal/-shm a running Plex makes and changes. */
function fingerprint(pmsDir: string): Record<string, string> {
  return Object.fromEntries(Object.entries(libraryFingerprint(pmsDir)).filter(([path]) => !/-(wal|shm)$/.test(path)));
}

describe('an install that fails never leaves home Plex stopped or misreported', () => {
  // Issue 16, item 9: ENOSPC on the backups disk once left home Plex stopped.
  it('a backup that cannot be made: Plex is started again, home unchanged', async () => {
    const home = await startHomePlex();
    const archive = await cloudResult(home, 1);
    // Plex checkpoints its DB when it stops: the library is compared by its files and its counts.
    const before = Object.keys(libraryFingerprint(home.paths.pms));
    const moviesBefore = readStatsOf(home.paths.mainDb).library.sections[0]?.counts.movie;
    // A backups "folder" that is a file: the backup fails once Plex is stopped, as a full disk would.
    const backupsDir = join(createTempDir('backups-'), 'not-a-folder');
    writeFileSync(backupsDir, '');
    const options = { ...homeInstallOptions({ pmsDir: home.paths.pms, control: home.control, url: home.url }, archive, { startTimeoutMs: 4_000 }), backupsDir };

    await expect(installArchive(options)).rejects.toMatchObject({ message: expect.stringMatching(/; nothing was installed and Plex was started again$/) });
    expect(home.calls).toEqual(['stop', 'start']);
    expect(Object.keys(libraryFingerprint(home.paths.pms))).toEqual(before);
    expect(readStatsOf(home.paths.mainDb).library.sections[0]?.counts.movie).toBe(moviesBefore);
    await expect.poll(async () => (await fetch(`${home.url}/identity`)).status, { timeout: 4_000 }).toBe(200);
  });

  // A resume puts back a backup cut short, stopping Plex; an archive that then fails to stage once left Plex stopped.
  it('a controller stopped while installing, resumed with an archive that fails: the old library in place and Plex started', async () => {
    const home = await startHomePlex();
    const archive = await cloudResult(home, 1);
    const moviesBefore = readStatsOf(home.paths.mainDb).library.sections[0]?.counts.movie;
    let before: Record<string, string> | undefined;
    const options = homeInstallOptions({ pmsDir: home.paths.pms, control: home.control, url: home.url }, archive, {
      startTimeoutMs: 4_000,
      onStep: (step) => {
        if (step === 'backing-up') before = fingerprint(home.paths.pms);
        // The controller dies here, and its rollback with it: Plex stopped, the backup made.
        if (step === 'installing' || step === 'rolling-back') throw new Error('controller killed');
      },
    });
    await expect(installArchive(options)).rejects.toThrow('controller killed');
    expect(listBackups(options.backupsDir)).toHaveLength(1);

    const garbage = join(createTempDir('archive-'), 'changed.tar.zst');
    writeFileSync(garbage, 'not an archive any more');
    const resumed = installArchive({ ...options, archive: createReadStream(garbage), resume: true, onStep: () => undefined });
    await expect(resumed).rejects.toMatchObject({ code: 'SAFETY_STOP' });
    expect(home.calls.at(-1)).toBe('start');
    expect(fingerprint(home.paths.pms)).toEqual(before);
    expect(readStatsOf(home.paths.mainDb).library.sections[0]?.counts.movie).toBe(moviesBefore);
    await expect.poll(async () => (await fetch(`${home.url}/identity`)).status, { timeout: 4_000 }).toBe(200);
  });

  // Issue 16, item 8: a crash during the automatic rollback was later reported as a successful install.
  it('a controller stopped during the automatic rollback: the resume finishes it and fails, the old library in place', async () => {
    const home = await startHomePlex();
    const archive = await cloudResult(home, 1);
    const moviesBefore = readStatsOf(home.paths.mainDb).library.sections[0]?.counts.movie;
    home.failNextStart();
    let before: Record<string, string> | undefined;
    const options = homeInstallOptions({ pmsDir: home.paths.pms, control: home.control, url: home.url }, archive, {
      startTimeoutMs: 4_000,
      onStep: (step) => {
        if (step === 'backing-up') before = fingerprint(home.paths.pms);
        // The controller dies here: the backup is back, Plex is not started yet.
        if (step === 'restored') throw new Error('controller killed');
      },
    });
    await expect(installArchive(options)).rejects.toMatchObject({ code: 'SAFETY_STOP' });
    expect(listBackups(options.backupsDir)).toHaveLength(1);

    const steps: InstallStep[] = [];
    const resumed = installArchive({ ...options, archive: createReadStream(archive), resume: true, onStep: (step) => steps.push(step) });
    await expect(resumed).rejects.toMatchObject({
      code: 'PLEX_NOT_READY',
      message: expect.stringMatching(
        /^install failed \(.*\); the controller stopped during the rollback, which is now finished: the previous library was put back/,
      ),
      details: { rolledBack: true },
    });
    expect(steps).not.toContain('done');
    expect(fingerprint(home.paths.pms)).toEqual(before);
    expect(readStatsOf(home.paths.mainDb).library.sections[0]?.counts.movie).toBe(moviesBefore);
    expect((await fetch(`${home.url}/identity`)).status).toBe(200);
  });
});
