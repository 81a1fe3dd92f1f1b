import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkIntegrity, findRecoveryEngine, repairDatabase, selfTestRecovery } from '@plexlift/shared/plex-db';
import { generateLibrary } from '../utils/library-generator.js';
import { countRows, destroyPage, fingerprint, runStockSqlite3 } from '../utils/sqlite-files.js';
import { createTempDir } from '../utils/temp-dir.js';

describe('repairDatabase', () => {
  it('recovers every row of a DB whose index page was overwritten, into a new file', async () => {
    const dir = createTempDir();
    const library = generateLibrary({ dir, size: 'small' });
    const parts = countRows(library.mainDb, 'media_parts');
    destroyPage(library.mainDb, 'index_media_parts_on_file');
    const damaged = fingerprint(library.mainDb);
    const out = join(dir, 'recovered.db');

    const report = await repairDatabase(library.mainDb, { out });

    expect(report.integrity.ok).toBe(true);
    expect(report.dataComplete).toBe(true);
    expect(report.rowsLost).toBe(0);
    expect(report.tables.find((t) => t.name === 'media_parts')).toEqual({ name: 'media_parts', before: parts, after: parts, lost: 0 });
    expect(countRows(out, 'media_parts')).toBe(parts);
    expect((await checkIntegrity(out)).ok).toBe(true);
    // Never in place: the damaged file is untouched.
    expect(fingerprint(library.mainDb)).toBe(damaged);
  });

  it('states what was lost when a table page is destroyed', async () => {
    const dir = createTempDir();
    const library = generateLibrary({ dir, size: 'small' });
    const parts = countRows(library.mainDb, 'media_parts');
    const page = destroyPage(library.mainDb, 'media_parts');
    expect(page.cells).toBeGreaterThan(0);

    const report = await repairDatabase(library.mainDb, { out: join(dir, 'recovered.db') });

    expect(report.dataComplete).toBe(false);
    // The index still lists every row, so the loss is known exactly: the rows of that page.
    expect(report.tables.find((t) => t.name === 'media_parts')).toEqual({
      name: 'media_parts',
      before: parts,
      after: parts - page.cells,
      lost: page.cells,
    });
    expect(report.rowsLost).toBe(page.cells);
    expect(report.integrity.ok).toBe(true);
  });

  it('says which Plex-only objects a stock engine could not rebuild, with their SQL', async () => {
    const dir = createTempDir();
    const library = generateLibrary({ dir, size: 'tiny' });
    const report = await repairDatabase(library.mainDb, { out: join(dir, 'recovered.db'), engine: 'sqlite3' });
    expect(report.engine.kind).toBe('sqlite3');
    expect(report.schemaComplete).toBe(false);
    expect(report.schemaLost).toEqual([
      { type: 'index', name: 'index_title_sort_icu', sql: "CREATE INDEX 'index_title_sort_icu' ON 'metadata_items' ('title_sort' COLLATE icu_root)" },
    ]);
    // The _icu FTS tables and triggers survive, so the result still needs Plex SQLite for writes.
    expect(runStockSqlite3(join(dir, 'recovered.db'), "SELECT count(*) FROM sqlite_schema WHERE name LIKE '%_icu'").stdout).toBe('10\n');
  });

  it('refuses to overwrite or write in place, and changes nothing', async () => {
    const dir = createTempDir();
    const library = generateLibrary({ dir, size: 'tiny' });
    const existing = join(dir, 'existing.db');
    writeFileSync(existing, 'keep me');
    await expect(repairDatabase(library.mainDb, { out: existing })).rejects.toMatchObject({
      code: 'PATH_INVALID',
      message: expect.stringMatching(/--out: .* already exists/),
    });
    await expect(repairDatabase(library.mainDb, { out: library.mainDb })).rejects.toMatchObject({
      code: 'PATH_INVALID',
      message: expect.stringMatching(/in place/),
    });
    await expect(repairDatabase(library.mainDb, { out: join(dir, 'no-such-folder', 'x.db') })).rejects.toMatchObject({ code: 'PATH_INVALID' });
    expect(existsSync(join(dir, 'no-such-folder'))).toBe(false);
  });
});

describe('recovery engines', () => {
  it("rejects Debian's stock sqlite3, whose .recover fails without DBPAGE", async () => {
    expect(existsSync('/usr/bin/sqlite3')).toBe(true);
    expect(await selfTestRecovery(['/usr/bin/sqlite3'])).toEqual({ ok: false, error: expect.stringMatching(/SQL logic error/) });
    await expect(findRecoveryEngine({ sqlite3Path: '/usr/bin/sqlite3' })).rejects.toMatchObject({
      code: 'RECOVERY_ENGINE_UNAVAILABLE',
      message: expect.stringMatching(/sqlite3Path.*cannot recover/),
    });
    await expect(findRecoveryEngine({ kind: 'sqlite3', env: { PLEXLIFT_SQLITE3: '/usr/bin/sqlite3' } })).rejects.toMatchObject({
      message: expect.stringMatching(/^PLEXLIFT_SQLITE3: /),
    });
  });

  it('skips a stock shell found on PATH and uses the project build', async () => {
    const engine = await findRecoveryEngine({ kind: 'sqlite3', env: { PATH: '/usr/bin' } });
    expect(engine.source).toBe('project build');
    expect(engine.command[0]).toMatch(/\.cache\/sqlite3\/bin\/sqlite3$/);
  });

  it('says what to do when no engine works', async () => {
    await expect(findRecoveryEngine({ kind: 'sqlite3', env: { PATH: '/usr/bin' }, projectBuildDir: '/nonexistent' })).rejects.toMatchObject({
      code: 'RECOVERY_ENGINE_UNAVAILABLE',
      message: expect.stringMatching(/PLEXLIFT_SQLITE3/),
    });
  });
});
