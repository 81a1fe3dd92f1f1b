import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PlexliftError } from '@plexlift/shared';
import { remapPaths } from '@plexlift/shared/plex-db';
import { generateLibrary } from '../utils/library-generator.js';
import { fingerprint } from '../utils/sqlite-files.js';
import { createTempDir } from '../utils/temp-dir.js';

/** Covers the photos, whose `metadata_items.guid` are file:// URLs: the rows that make the remap set the triggers aside. */
const MAPPING = [{ from: '/Media', to: '/mnt/media' }];

/** Rewrites the stored SQL of one `_icu` trigger of `table`, as a crafted DB file would carry it; returns its name. */
function rewriteTriggerSql(path: string, table: string, rewrite: (sql: string) => string): string {
  const db = new Database(path);
  db.unsafeMode(true); // lifts SQLite's defensive mode, which forbids writing sqlite_schema
  try {
    const { name, sql } = db
      .prepare(`SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = ? AND name LIKE '%icu%' LIMIT 1`)
      .get(table) as {
      name: string;
      sql: string;
    };
    db.pragma('writable_schema = ON');
    db.prepare(`UPDATE sqlite_schema SET sql = ? WHERE type = 'trigger' AND name = ?`).run(rewrite(sql), name);
    db.pragma('writable_schema = OFF');
    return name;
  } finally {
    db.close();
  }
}

// `db remap` re-creates the `_icu` triggers it set aside from their SQL stored in the DB (issue 16, item 16).
describe('plexlift db remap and the trigger SQL stored in the DB', () => {
  it('refuses a trigger whose SQL carries more statements (ATTACH, INSERT into another file): safety stop naming it, nothing changed', () => {
    const dir = createTempDir();
    const library = generateLibrary({ dir, size: 'small' });
    const victim = join(dir, 'victim.db');
    const tail = `; ATTACH '${victim}' AS victim; CREATE TABLE victim.pwned(x); INSERT INTO victim.pwned VALUES (1)`;
    const trigger = rewriteTriggerSql(library.mainDb, 'metadata_items', (sql) => `${sql}${tail}`);
    const before = fingerprint(library.mainDb);

    let caught: unknown;
    try {
      remapPaths(library.mainDb, MAPPING);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PlexliftError);
    expect(caught).toMatchObject({ code: 'SAFETY_STOP', message: expect.stringContaining(trigger) });
    expect(existsSync(victim)).toBe(false);
    expect(fingerprint(library.mainDb)).toBe(before);
  });

  it('refuses a trigger whose SQL carries a write to the library itself (which the old exec ran inside the remap)', () => {
    const library = generateLibrary({ dir: createTempDir(), size: 'small' });
    const trigger = rewriteTriggerSql(library.mainDb, 'metadata_items', (sql) => `${sql}; DELETE FROM media_parts`);
    const before = fingerprint(library.mainDb);
    expect(() => remapPaths(library.mainDb, MAPPING)).toThrow(new RegExp(`trigger "${trigger}" .* is not one valid CREATE TRIGGER statement`));
    expect(fingerprint(library.mainDb)).toBe(before);
  });

  it('still re-creates the genuine triggers exactly', () => {
    const library = generateLibrary({ dir: createTempDir(), size: 'small' });
    const triggers = (path: string) => {
      const db = new Database(path, { readonly: true });
      try {
        return db.prepare(`SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' ORDER BY name`).all();
      } finally {
        db.close();
      }
    };
    const before = triggers(library.mainDb);
    const report = remapPaths(library.mainDb, MAPPING);
    expect(report.columns.find((c) => c.table === 'metadata_items')?.rows).toBeGreaterThan(0);
    expect(triggers(library.mainDb)).toEqual(before);
  });
});
