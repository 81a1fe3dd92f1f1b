import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkIntegrity } from '@plexlift/shared/plex-db';
import { REAL_DB_DIR, generateLibrary } from '../utils/library-generator.js';
import { destroyPage, fingerprint, runStockSqlite3 } from '../utils/sqlite-files.js';
import { createTempDir } from '../utils/temp-dir.js';

describe('checkIntegrity', () => {
  it('says ok on a healthy modern Plex DB that stock SQLite cannot check', async () => {
    const library = generateLibrary({ dir: createTempDir(), size: 'small' });
    // The trap the predecessor fell into: stock integrity_check fails on a healthy DB.
    const stock = runStockSqlite3(library.mainDb, 'PRAGMA integrity_check');
    expect(stock.status).not.toBe(0);
    expect(stock.stderr).toMatch(/icu_root|collating/);

    const report = await checkIntegrity(library.mainDb);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.unchecked.map((u) => u.name)).toEqual(
      expect.arrayContaining(['index_title_sort_icu', 'fts4_metadata_titles_icu', 'fts4_tag_titles_icu', 'spellfix_metadata_titles']),
    );
  });

  it('says ok on the real PMS 1.43.2 library and blobs DBs as shipped', async () => {
    const dir = createTempDir();
    for (const name of ['com.plexapp.plugins.library.db', 'com.plexapp.plugins.library.blobs.db']) {
      copyFileSync(join(REAL_DB_DIR, name), join(dir, name));
      expect((await checkIntegrity(join(dir, name))).ok).toBe(true);
    }
  });

  it.each([
    ['a leaf page of a table', 'media_parts', 'leaf'],
    ['a leaf page of an index', 'index_media_parts_on_file', 'leaf'],
    ['an interior page of a table', 'metadata_items', 'internal'],
    ['a page of the table with the Plex-only index and triggers', 'metadata_items', 'leaf'],
  ] as const)('finds %s overwritten with garbage, and names it', async (_, object, kind) => {
    const library = generateLibrary({ dir: createTempDir(), size: 'small' });
    destroyPage(library.mainDb, object, { kind });
    const before = fingerprint(library.mainDb);

    const report = await checkIntegrity(library.mainDb);
    expect(report.ok).toBe(false);
    expect(report.problems.length).toBeGreaterThan(0);
    const table = object.startsWith('index_media_parts') ? 'media_parts' : object;
    expect(report.damaged).toContain(table);
    // Read-only: the damaged file is exactly as it was.
    expect(fingerprint(library.mainDb)).toBe(before);
  });

  it('finds damage that SELECT count(*) does not see', async () => {
    const library = generateLibrary({ dir: createTempDir(), size: 'small' });
    destroyPage(library.mainDb, 'index_media_parts_on_file');
    // The predecessor's health check after integrity_check failed on a healthy DB.
    expect(runStockSqlite3(library.mainDb, 'SELECT count(*) FROM library_sections')).toMatchObject({ status: 0, stdout: '4\n' });
    expect((await checkIntegrity(library.mainDb)).ok).toBe(false);
  });

  it('reports a file that is not a database as corrupt, and a missing one as a bad path', async () => {
    const dir = createTempDir();
    const garbage = join(dir, 'com.plexapp.plugins.library.db');
    writeFileSync(garbage, Buffer.alloc(8192, 0x41));
    const report = await checkIntegrity(garbage);
    expect(report).toMatchObject({ ok: false, problems: [expect.stringMatching(/not a SQLite database/)] });
    await expect(checkIntegrity(join(dir, 'missing.db'))).rejects.toMatchObject({ code: 'PATH_INVALID' });
  });

  it('refuses a scratch folder without room instead of filling the disk', async () => {
    const library = generateLibrary({ dir: createTempDir(), size: 'tiny' });
    await expect(checkIntegrity(library.mainDb, { scratchDir: '/proc' })).rejects.toMatchObject({ code: 'DISK_FULL' });
  });
});
