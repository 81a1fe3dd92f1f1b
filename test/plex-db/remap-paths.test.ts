import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { closeDatabase, findPathLeftovers, openDatabaseReadOnly, readSchema, remapPaths, type PathMapping } from '@plexlift/shared/plex-db';
import { generateLibrary, type SectionSpec } from '../utils/library-generator.js';
import { holdDatabaseLikePlex } from '../utils/plex-holder.js';
import { fingerprint, runStockSqlite3 } from '../utils/sqlite-files.js';
import { createTempDir } from '../utils/temp-dir.js';

/** The same rewrite, written independently: anchored, longest first, first match wins. */
function expectedPath(value: string, mappings: PathMapping[]): string {
  const sorted = [...mappings].sort((a, b) => b.from.length - a.from.length);
  for (const { from, to } of sorted) {
    if (value === from || value.startsWith(from + '/')) return to + value.slice(from.length);
  }
  return value;
}

function column(path: string, sql: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare(sql).pluck().all() as string[]).sort();
  } finally {
    db.close();
  }
}

const files = (path: string) => column(path, `SELECT file FROM media_parts WHERE file <> ''`);
const roots = (path: string) => column(path, `SELECT root_path FROM section_locations`);

const COLLIDING: SectionSpec[] = [
  { title: 'TV', type: 'show', roots: ['/Media/TV'] },
  { title: 'TV Shows', type: 'show', roots: ['/Media/TVShows'] },
  { title: 'Movies', type: 'movie', roots: ['/Media/Movies', '/MediaX/Movies'] },
];

describe('remapPaths', () => {
  it('never touches a sibling that shares the prefix: /Media/TV vs /Media/TVShows, /Media vs /MediaX', () => {
    const library = generateLibrary({ dir: createTempDir(), size: 'small', sections: COLLIDING });
    const before = files(library.mainDb);
    const mappings = [
      { from: '/Media/TV', to: '/mnt/tv' },
      { from: '/Media', to: '/mnt/media' },
    ];
    const report = remapPaths(library.mainDb, mappings);

    expect(files(library.mainDb)).toEqual(before.map((f) => expectedPath(f, mappings)).sort());
    expect(roots(library.mainDb)).toEqual(['/MediaX/Movies', '/mnt/media/Movies', '/mnt/media/TVShows', '/mnt/tv'].sort());
    expect(files(library.mainDb).filter((f) => f.startsWith('/MediaX/'))).toHaveLength(before.filter((f) => f.startsWith('/MediaX/')).length);
    expect(report.leftovers).toEqual([]);
    // Longest first: /Media/TV went to /mnt/tv, not to /mnt/media/TV.
    expect(files(library.mainDb).some((f) => f.startsWith('/mnt/media/TV/'))).toBe(false);
  });

  it('rewrites names with spaces, quotes, unicode, % and _ exactly, and matches case-sensitively', () => {
    const library = generateLibrary({ dir: createTempDir(), size: 'small' });
    const before = files(library.mainDb);
    expect(before.some((f) => f.includes(`"Quoted"`) && f.includes("Don't") === false)).toBe(true);
    expect(before.some((f) => f.includes('東京物語'))).toBe(true);
    expect(before.some((f) => f.includes('100% Pure'))).toBe(true);

    // LIKE would match this (ASCII case-insensitive); on Linux it is another folder.
    expect(remapPaths(library.mainDb, [{ from: '/media/movies', to: '/x' }]).rows).toBe(0);

    const mappings = [
      { from: '/Media/Movies/', to: `/mnt/My "Films"/été d'or/` },
      { from: '/Media/Music', to: '/mnt/音楽' },
    ];
    remapPaths(library.mainDb, mappings);
    const normalised = [
      { from: '/Media/Movies', to: `/mnt/My "Films"/été d'or` },
      { from: '/Media/Music', to: '/mnt/音楽' },
    ];
    expect(files(library.mainDb)).toEqual(before.map((f) => expectedPath(f, normalised)).sort());
  });

  it('rewrites file:// URLs in the form they are stored, raw or percent-encoded', () => {
    const library = generateLibrary({
      dir: createTempDir(),
      size: 'small',
      sections: [{ title: 'TV Shows', type: 'show', roots: ['/Media/TV Shows'] }],
    });
    const urls = column(library.mainDb, `SELECT url FROM media_streams WHERE url <> ''`);
    expect(urls.some((u) => u.startsWith('file:///Media/TV%20Shows/'))).toBe(true);
    expect(urls.some((u) => u.startsWith('file:///Media/TV Shows/'))).toBe(true);

    remapPaths(library.mainDb, [{ from: '/Media/TV Shows', to: '/mnt/Séries TV' }]);
    const expected = urls.map((u) =>
      u.startsWith('file:///Media/TV%20Shows/')
        ? 'file://' + encodeURI('/mnt/Séries TV') + u.slice('file:///Media/TV%20Shows'.length)
        : 'file:///mnt/Séries TV' + u.slice('file:///Media/TV Shows'.length),
    );
    expect(column(library.mainDb, `SELECT url FROM media_streams WHERE url <> ''`)).toEqual(expected.sort());
  });

  it('rewrites file:// guids of metadata_items and leaves the _icu triggers exactly as they were', () => {
    const library = generateLibrary({ dir: createTempDir(), size: 'small' });
    const plexObjects = (path: string) => {
      const db = openDatabaseReadOnly(path);
      try {
        return readSchema(db)
          .filter((o) => /_icu$/.test(o.name))
          .map(({ type, name, tableName, sql }) => ({ type, name, tableName, sql }))
          .sort((a, b) => a.name.localeCompare(b.name));
      } finally {
        closeDatabase(db);
      }
    };
    const before = plexObjects(library.mainDb);
    expect(before.filter((o) => o.type === 'trigger')).toHaveLength(8);
    const guids = column(library.mainDb, `SELECT guid FROM metadata_items WHERE guid LIKE 'file://%'`);
    expect(guids.length).toBeGreaterThan(0);

    const report = remapPaths(library.mainDb, [
      { from: '/Media/Photo', to: '/mnt/photo' },
      { from: '/Photo', to: '/mnt/photo-old' },
    ]);

    expect(report.columns.find((c) => c.column === 'guid')?.rows).toBe(guids.length);
    expect(column(library.mainDb, `SELECT guid FROM metadata_items WHERE guid LIKE 'file://%'`)).toEqual(
      guids.map((g) => 'file://' + expectedPath(g.slice(7), report.mappings)).sort(),
    );
    expect(plexObjects(library.mainDb)).toEqual(before);
    // Still a real Plex DB: stock SQLite trips on it exactly as before.
    const stock = runStockSqlite3(library.mainDb, `INSERT INTO metadata_items (title) VALUES ('x')`);
    expect(stock.stderr).toMatch(/icu_root|collating/);
  });

  it('dry run reports counts and samples and writes nothing', () => {
    const library = generateLibrary({ dir: createTempDir(), size: 'small' });
    const untouched = fingerprint(library.mainDb);
    const mappings = [{ from: '/Media/Music', to: '/mnt/music' }];
    const dry = remapPaths(library.mainDb, mappings, { dryRun: true, samples: 2 });
    expect(fingerprint(library.mainDb)).toBe(untouched);
    const parts = dry.columns.find((c) => c.table === 'media_parts')!;
    expect(parts.rows).toBe(library.files.filter((f) => f.startsWith('/Media/Music/')).length);
    expect(parts.samples).toHaveLength(2);
    expect(parts.samples[0]!.after).toBe(expectedPath(parts.samples[0]!.before, mappings));

    const real = remapPaths(library.mainDb, mappings);
    expect(real.columns.map((c) => c.rows)).toEqual(dry.columns.map((c) => c.rows));
  });

  it('verifies that no old prefix is left in any text column of the main and blobs DBs', () => {
    const library = generateLibrary({ dir: createTempDir(), size: 'small' });
    const mappings = [
      { from: '/Media', to: '/mnt/media' },
      { from: '/Photo', to: '/mnt/photo' },
    ];
    const report = remapPaths(library.mainDb, mappings);
    expect(report.rows).toBeGreaterThan(library.files.length);
    expect(report.leftovers).toEqual([]);
    for (const [path, database] of [
      [library.mainDb, 'main'],
      [library.blobsDb, 'blobs'],
    ] as const) {
      const db = openDatabaseReadOnly(path);
      try {
        expect(findPathLeftovers(db, report.mappings, { database })).toEqual([]);
      } finally {
        closeDatabase(db);
      }
    }
  });

  it('stops, changing nothing, when an old prefix sits in a column it does not rewrite', () => {
    const library = generateLibrary({ dir: createTempDir(), size: 'tiny' });
    const db = new Database(library.mainDb);
    db.prepare(`UPDATE media_items SET hints = '/Media/Movies/Film 1 (2001)' WHERE id = (SELECT min(id) FROM media_items)`).run();
    db.prepare(`UPDATE media_parts SET extra_data = '{"url":"file:///Media/Movies/x.nfo"}' WHERE id = (SELECT max(id) FROM media_parts)`).run();
    db.close();
    const before = fingerprint(library.mainDb);

    expect(() => remapPaths(library.mainDb, [{ from: '/Media/Movies', to: '/films' }])).toThrow(
      expect.objectContaining({
        code: 'SAFETY_STOP',
        message: expect.stringMatching(/main:media_parts\.extra_data.*main:media_items\.hints.*nothing was changed/),
      }),
    );
    expect(fingerprint(library.mainDb)).toBe(before);
    const dry = remapPaths(library.mainDb, [{ from: '/Media/Movies', to: '/films' }], { dryRun: true });
    expect(dry.leftovers.map((l) => `${l.table}.${l.column}`).sort()).toEqual(['media_items.hints', 'media_parts.extra_data']);
  });

  it('rejects bad mappings before opening the DB', () => {
    const library = generateLibrary({ dir: createTempDir(), size: 'tiny' });
    const before = fingerprint(library.mainDb);
    expect(() => remapPaths(library.mainDb, [{ from: '/Media/TV', to: '/Media/TV/x' }])).toThrow(expect.objectContaining({ code: 'MAPPING_INVALID' }));
    expect(() => remapPaths(library.mainDb, [{ from: 'Media', to: '/x' }])).toThrow(expect.objectContaining({ code: 'MAPPING_INVALID' }));
    expect(fingerprint(library.mainDb)).toBe(before);
  });

  it('refuses to write while Plex holds the DB, and writes nothing', async () => {
    const library = generateLibrary({ dir: createTempDir(), size: 'tiny' });
    const before = fingerprint(library.mainDb);
    const plex = await holdDatabaseLikePlex(library.mainDb);
    expect(() => remapPaths(library.mainDb, [{ from: '/Media', to: '/mnt' }])).toThrow(
      expect.objectContaining({ code: 'DATABASE_IN_USE', message: expect.stringContaining(`pid ${plex.pid}`) }),
    );
    expect(fingerprint(library.mainDb)).toBe(before);
    // Reading is fine while Plex runs.
    expect(remapPaths(library.mainDb, [{ from: '/Media', to: '/mnt' }], { dryRun: true }).rows).toBeGreaterThan(0);
  });
});
