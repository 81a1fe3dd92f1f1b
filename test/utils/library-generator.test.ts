import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAIN_DB_NAME } from '@plexlift/shared/plex-db';
import { LIBRARY_SIZES } from './library-profile.js';
import { REAL_DB_DIR, generateLibrary } from './library-generator.js';
import { runStockSqlite3 } from './sqlite-files.js';
import { createTempDir } from './temp-dir.js';

function schema(path: string) {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(`SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name`).all();
  } finally {
    db.close();
  }
}

describe('generateLibrary', () => {
  it('keeps the real PMS 1.43.2 schema, Plex-only objects included, byte for byte', () => {
    const library = generateLibrary({ dir: createTempDir(), size: 'small' });
    expect(schema(library.mainDb)).toEqual(schema(join(REAL_DB_DIR, MAIN_DB_NAME)));
  });

  it('trips stock SQLite exactly like a user DB does', () => {
    const library = generateLibrary({ dir: createTempDir(), size: 'tiny' });
    expect(runStockSqlite3(library.mainDb, 'PRAGMA integrity_check').stderr).toMatch(/no such collation sequence: icu_root/);
    expect(runStockSqlite3(library.mainDb, `UPDATE metadata_items SET guid = guid`).stderr).toMatch(/icu_root|unknown tokenizer: collating/);
    expect(runStockSqlite3(library.mainDb, `INSERT INTO tags (tag) VALUES ('x')`).stderr).toMatch(/unknown tokenizer: collating/);
    expect(runStockSqlite3(library.mainDb, 'SELECT count(*) FROM media_parts').status).toBe(0);
  });

  it('is deterministic for a seed', () => {
    const a = generateLibrary({ dir: createTempDir(), size: 'tiny', seed: 5, deletedRatio: 0.2 });
    const b = generateLibrary({ dir: createTempDir(), size: 'tiny', seed: 5, deletedRatio: 0.2 });
    expect(b.expected).toEqual(a.expected);
    expect(b.files).toEqual(a.files);
  });

  it('sizes the reference library like the reference user: ~500k items, 456k tracks, ~1.3k films and episodes, 28k photos', () => {
    const r = LIBRARY_SIZES.reference;
    const tracks = r.artists * r.albumsPerArtist * r.tracksPerAlbum;
    const video = r.movies + r.shows * r.seasonsPerShow * r.episodesPerSeason;
    const photos = r.photoAlbums * r.photosPerAlbum;
    expect(tracks).toBeGreaterThan(456_000);
    expect(tracks).toBeLessThan(457_000);
    expect(video).toBeGreaterThan(1_250);
    expect(video).toBeLessThan(1_450);
    expect(photos).toBeGreaterThan(28_000);
    expect(photos).toBeLessThan(28_500);
    const items = tracks + photos + video + r.artists * (1 + r.albumsPerArtist) + r.photoAlbums + r.shows * (1 + r.seasonsPerShow);
    expect(items).toBeGreaterThan(490_000);
    expect(items).toBeLessThan(540_000);
  });
});
