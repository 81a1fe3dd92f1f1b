import Database from 'better-sqlite3';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { installArchive } from '../../packages/controller/src/install/home-install.js';
import { checkPlexVersions, comparePlexVersions } from '../../packages/controller/src/install/plex-version-check.js';
import { cloudResult } from '../utils/cloud-result.js';
import { homeInstallOptions } from '../utils/home-install-options.js';
import { libraryFingerprint } from '../utils/home-plex.js';
import { startHomePlex } from '../utils/home-plex-fixture.js';
import { REAL_DB_DIR } from '../utils/library-generator.js';
import { readStatsOf } from '../utils/sqlite-files.js';
import { createTempDir } from '../utils/temp-dir.js';

const JOB_VERSION = '1.43.2.10687-563d026ea';

describe('the home Plex changed version during the job', () => {
  it('compares PMS versions part by part, the build included', () => {
    expect(comparePlexVersions('1.43.2.10687-563d026ea', '1.43.2.10687-aaaaaaaaa')).toBe(0);
    expect(comparePlexVersions('1.43.2.10687-563d026ea', '1.42.1.10060-4e8b05daf')).toBe(1);
    expect(comparePlexVersions('1.9.0.1-a', '1.10.0.1-a')).toBe(-1);
    expect(comparePlexVersions('1.43.2.10687-a', '1.43.2.10700-a')).toBe(-1);
  });

  it('home downgraded to an older Plex: refused with a clear message before Plex is stopped, home byte-identical', { timeout: 60_000 }, async () => {
    const home = await startHomePlex({ version: '1.42.1.10060-4e8b05daf' });
    const archive = await cloudResult(home, 2);
    const before = libraryFingerprint(home.paths.pms);
    const options = {
      ...homeInstallOptions({ pmsDir: home.paths.pms, control: home.control, url: home.url }, archive, { startTimeoutMs: 4_000 }),
      plexVersion: JOB_VERSION,
    };
    await expect(installArchive(options)).rejects.toMatchObject({
      code: 'SAFETY_STOP',
      message: expect.stringMatching(
        /^the new library was made by Plex 1\.43\.2\.10687-563d026ea and the home Plex is now the older 1\.42\.1\.10060-4e8b05daf; .*nothing was installed .*update the home Plex to 1\.43\.2\.10687-563d026ea or later, then run plexlift install job-0001$/,
      ),
    });
    expect(home.calls).toEqual([]);
    expect(libraryFingerprint(home.paths.pms)).toEqual(before);
  });

  it('home updated to a newer Plex: installed (Plex migrates the library forward as it starts), and said', { timeout: 60_000 }, async () => {
    const home = await startHomePlex({ version: '1.43.3.10741-0a1b2c3d4' });
    const archive = await cloudResult(home, 2);
    const options = {
      ...homeInstallOptions({ pmsDir: home.paths.pms, control: home.control, url: home.url }, archive, { startTimeoutMs: 4_000 }),
      plexVersion: JOB_VERSION,
    };
    const result = await installArchive(options);
    expect(result.versionNote).toBe(
      'the home Plex was updated during the job (1.43.2.10687-563d026ea → 1.43.3.10741-0a1b2c3d4): it migrates the new library forward as it starts',
    );
    expect(readStatsOf(home.paths.mainDb).library.sections[0]?.counts.movie).toBe(6);
  });

  it("a home Plex that does not say its version: the DBs' migrations decide", () => {
    const dir = createTempDir('versions-');
    const [homeDb, incomingDb] = [join(dir, 'home.db'), join(dir, 'incoming.db')];
    copyFileSync(join(REAL_DB_DIR, 'com.plexapp.plugins.library.db'), homeDb);
    copyFileSync(join(REAL_DB_DIR, 'com.plexapp.plugins.library.db'), incomingDb);
    const check = () => checkPlexVersions({ jobId: 'job-7', jobVersion: JOB_VERSION, homeVersion: undefined, homeDb, incomingDb });
    expect(check()).toBeUndefined();
    const db = new Database(incomingDb);
    db.prepare('INSERT INTO schema_migrations (version) VALUES (?)').run('29990101000000');
    db.close();
    expect(check).toThrow(
      /^the new library went through Plex migrations the home library never had \(29990101000000\), and the home Plex did not say its version; .*plexlift install job-7$/,
    );
  });
});
