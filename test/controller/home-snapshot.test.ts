import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractArchive, PLEX_LIBRARY_ENTRIES } from '@plexlift/shared/archive';
import { mainDatabasePath } from '@plexlift/shared/plex-db';
import { createHomeSnapshot } from '../../packages/controller/src/transfers/home-snapshot.js';
import { libraryFingerprint } from '../utils/home-plex.js';
import { startHomePlex } from '../utils/home-plex-fixture.js';
import { readStatsOf } from '../utils/sqlite-files.js';
import { createTempDir } from '../utils/temp-dir.js';

describe('the home snapshot for a delta job', () => {
  it('takes the live DBs consistently while home Plex runs, with Metadata/ and Media/ when asked, and never Preferences.xml; home is untouched', async () => {
    const home = await startHomePlex();
    mkdirSync(join(home.paths.media, 'a', 'bc.bundle', 'Contents', 'Indexes'), { recursive: true });
    writeFileSync(join(home.paths.media, 'a', 'bc.bundle', 'Contents', 'Indexes', 'index-sd.bif'), 'bif');
    const before = libraryFingerprint(home.paths.pms);
    const dir = createTempDir('snapshot-');
    for (const bundles of [false, true]) {
      const snapshot = await createHomeSnapshot(home.paths.pms, join(dir, `work-${bundles}`), { bundles });
      const target = join(dir, `vm-${bundles}`);
      await Promise.all([extractArchive(snapshot.stream, target, { allow: PLEX_LIBRARY_ENTRIES }), snapshot.finished]);
      expect(readStatsOf(mainDatabasePath(target)).library.sections.map((s) => [s.title, s.counts.movie])).toEqual([['Movies', 4]]);
      expect(existsSync(join(target, 'Media', 'localhost', 'a', 'bc.bundle', 'Contents', 'Indexes', 'index-sd.bif'))).toBe(bundles);
      expect(existsSync(join(target, 'Metadata'))).toBe(bundles);
      expect(existsSync(join(target, 'Preferences.xml'))).toBe(false);
      expect(existsSync(join(dir, `work-${bundles}`))).toBe(false); // its scratch copy is gone
    }
    const after = libraryFingerprint(home.paths.pms);
    // The running Plex may write its own DB; the snapshot wrote nothing into home.
    const untouched = (prints: Record<string, string>) => Object.fromEntries(Object.entries(prints).filter(([path]) => !path.startsWith('Plug-in Support')));
    expect(untouched(after)).toEqual(untouched(before));
    expect(createHash('sha256').update(readFileSync(home.paths.preferences)).digest('hex')).toBe(before['Preferences.xml']);
  });
});
