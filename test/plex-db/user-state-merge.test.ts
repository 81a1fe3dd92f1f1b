import Database from 'better-sqlite3';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertMergeable, mergeUserState, tablesChangedAtHome } from '@plexlift/shared/plex-db';
import { generateLibrary } from '../utils/library-generator.js';
import { editLibrary, RENUMBER_LIBRARY_SQL } from '../utils/plex-only-objects.js';
import { createTempDir } from '../utils/temp-dir.js';

const T0 = 1_780_000_000;

/** base: the snapshot a job started from (the 1.43.2 schema, generated items, some user state); home and incoming: copies of it. */
function threeWay() {
  const dir = createTempDir('user-state-');
  const base = generateLibrary({ dir: join(dir, 'base'), size: 'small' }).mainDb;
  const db = new Database(base, { readonly: true });
  const films = db.prepare(`SELECT id, guid FROM metadata_items WHERE metadata_type = 1 ORDER BY id LIMIT 6`).all() as { id: number; guid: string }[];
  const episode = db.prepare(`SELECT id, guid, library_section_id AS section FROM metadata_items WHERE metadata_type = 4 ORDER BY id LIMIT 1`).get() as {
    id: number;
    guid: string;
    section: number;
  };
  const partOf = (item: number) =>
    db.prepare(`SELECT mp.id, mp.file FROM media_parts mp JOIN media_items mi ON mi.id = mp.media_item_id WHERE mi.metadata_item_id = ?`).get(item) as {
      id: number;
      file: string;
    };
  const streamOf = (part: number) => db.prepare(`SELECT id FROM media_streams WHERE media_part_id = ? ORDER BY id LIMIT 1`).pluck().get(part) as number;
  const [a, b, c, d, , f] = films as [(typeof films)[0], (typeof films)[0], (typeof films)[0], (typeof films)[0], unknown, (typeof films)[0]];
  const parts = { a: partOf(a.id), d: partOf(d.id), f: partOf(f.id) };
  const streams = { a: streamOf(parts.a.id), d: streamOf(parts.d.id), f: streamOf(parts.f.id) };
  db.close();
  editLibrary(
    base,
    `INSERT INTO metadata_item_settings (account_id, guid, view_count, view_offset, last_viewed_at, created_at, updated_at) VALUES
       (1, '${a.guid}', 1, 0, ${T0}, ${T0}, ${T0}), (1, '${b.guid}', 0, 600000, ${T0}, ${T0}, ${T0}), (1, '${c.guid}', 1, 0, ${T0}, ${T0}, ${T0});
     INSERT INTO metadata_item_views (account_id, guid, metadata_type, library_section_id, title, viewed_at, device_id, view_type) VALUES
       (1, '${episode.guid}', 4, ${episode.section}, 'Pilot', ${T0 + 1}, 1, 0), (1, '${episode.guid}', 4, ${episode.section}, 'Pilot', ${T0 + 2}, 1, 0);
     INSERT INTO media_part_settings (account_id, media_part_id, selected_audio_stream_id, created_at, updated_at) VALUES (1, ${parts.a.id}, ${streams.a}, ${T0}, ${T0});`,
  );
  const home = join(dir, 'home.db');
  const incoming = join(dir, 'incoming.db');
  copyFileSync(base, home);
  copyFileSync(base, incoming);
  // The VM built the library again: every local id differs; it also touched B's progress, and F's file is gone from it.
  editLibrary(
    incoming,
    `${RENUMBER_LIBRARY_SQL}
     UPDATE metadata_item_settings SET view_offset = 5 WHERE guid = '${b.guid}';
     UPDATE media_parts SET file = file || '.moved' WHERE id = ${parts.f.id + 100000};`,
  );
  return { base, home, incoming, guids: { a: a.guid, b: b.guid, c: c.guid, d: d.guid }, episode, parts, streams };
}

const rows = (path: string, sql: string, ...params: unknown[]) => {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as Record<string, unknown>[];
  } finally {
    db.close();
  }
};

describe('mergeUserState: what home did during a job, onto the library the job built', () => {
  it('nobody at home: nothing carried, nothing reported, the new library unchanged', () => {
    const { base, home, incoming } = threeWay();
    const before = rows(incoming, 'SELECT * FROM metadata_item_settings ORDER BY id');
    const report = mergeUserState({ base, home, incoming });
    expect(report.tables.filter((t) => t.carried > 0 || t.removed > 0 || t.notCarried.length > 0)).toEqual([]);
    expect(tablesChangedAtHome({ base, home })).toEqual([]);
    expect(rows(incoming, 'SELECT * FROM metadata_item_settings ORDER BY id')).toEqual(before);
  });

  it('metadata_item_settings by account and guid: watched, progress (home wins over the VM), rating, unwatched, and an item the new library lacks', () => {
    const { base, home, incoming, guids } = threeWay();
    editLibrary(
      home,
      `INSERT INTO metadata_item_settings (account_id, guid, view_count, last_viewed_at, created_at, updated_at) VALUES (1, '${guids.d}', 1, ${T0 + 10}, ${T0 + 10}, ${T0 + 10});
       UPDATE metadata_item_settings SET view_offset = 1200000, updated_at = ${T0 + 11} WHERE guid = '${guids.b}';
       UPDATE metadata_item_settings SET rating = 8, last_rated_at = ${T0 + 12} WHERE guid = '${guids.a}';
       DELETE FROM metadata_item_settings WHERE guid = '${guids.c}';
       INSERT INTO metadata_item_settings (account_id, guid, view_count, created_at, updated_at) VALUES (1, 'plex://movie/added-at-home', 1, ${T0}, ${T0});`,
    );
    const report = mergeUserState({ base, home, incoming });
    expect(report.tables.find((t) => t.table === 'metadata_item_settings')).toEqual({
      table: 'metadata_item_settings',
      carried: 4,
      removed: 1,
      waiting: 1,
      notCarried: [],
    });
    const settings = new Map(rows(incoming, 'SELECT * FROM metadata_item_settings').map((row) => [row.guid, row]));
    expect(settings.get(guids.d)).toMatchObject({ account_id: 1, view_count: 1, last_viewed_at: T0 + 10 });
    expect(settings.get(guids.b)).toMatchObject({ view_offset: 1200000 });
    expect(settings.get(guids.a)).toMatchObject({ rating: 8, last_rated_at: T0 + 12, view_count: 1 });
    expect(settings.has(guids.c)).toBe(false);
    expect(settings.get('plex://movie/added-at-home')).toMatchObject({ view_count: 1 });
  });

  it('metadata_item_views: plays added and deleted at home, their section and a new device translated to the new library', () => {
    const { base, home, incoming, episode } = threeWay();
    editLibrary(
      home,
      `INSERT INTO devices (identifier, name, platform, created_at, updated_at) VALUES ('phone-7f3a', 'Kid phone', 'Android', ${T0}, ${T0});
       INSERT INTO metadata_item_views (account_id, guid, metadata_type, library_section_id, title, viewed_at, device_id, view_type)
         VALUES (1, '${episode.guid}', 4, ${episode.section}, 'Pilot', ${T0 + 20}, (SELECT id FROM devices WHERE identifier = 'phone-7f3a'), 0),
                (1, '${episode.guid}', 4, ${episode.section}, 'Pilot', ${T0 + 30}, (SELECT id FROM devices WHERE identifier = 'phone-7f3a'), 0);
       DELETE FROM metadata_item_views WHERE viewed_at = ${T0 + 1};`,
    );
    const report = mergeUserState({ base, home, incoming });
    expect(report.tables.find((t) => t.table === 'metadata_item_views')).toMatchObject({ carried: 2, removed: 1, waiting: 0 });
    expect(report.tables.find((t) => t.table === 'devices')).toMatchObject({ carried: 1 });
    const views = rows(
      incoming,
      `SELECT v.viewed_at, v.library_section_id, d.identifier FROM metadata_item_views v LEFT JOIN devices d ON d.id = v.device_id WHERE v.guid = ? ORDER BY v.viewed_at`,
      episode.guid,
    );
    expect(views.map((v) => v.viewed_at)).toEqual([T0 + 2, T0 + 20, T0 + 30]);
    // The section as the new library numbers it (the VM's ids are 50 higher).
    expect(new Set(views.map((v) => v.library_section_id))).toEqual(new Set([episode.section + 50]));
    expect(views.slice(1).map((v) => v.identifier)).toEqual(['phone-7f3a', 'phone-7f3a']);
  });

  it('media_part_settings and media_stream_settings by file and stream: translated, and one whose file the new library lacks reported', () => {
    const { base, home, incoming, parts, streams } = threeWay();
    editLibrary(
      home,
      `INSERT INTO media_part_settings (account_id, media_part_id, selected_audio_stream_id, selected_subtitle_stream_id, created_at, updated_at)
         VALUES (1, ${parts.d.id}, ${streams.d}, 0, ${T0}, ${T0}), (1, ${parts.f.id}, ${streams.f}, 0, ${T0}, ${T0});
       INSERT INTO media_stream_settings (account_id, media_stream_id, extra_data, created_at, updated_at) VALUES (1, ${streams.d}, 'x', ${T0}, ${T0});
       INSERT INTO accounts (id, name, created_at, updated_at) VALUES (424242, 'Kid', ${T0}, ${T0});`,
    );
    const report = mergeUserState({ base, home, incoming });
    expect(report.tables.find((t) => t.table === 'media_part_settings')).toEqual({
      table: 'media_part_settings',
      carried: 1,
      removed: 0,
      waiting: 0,
      notCarried: [{ reason: 'its file is not in the new library', rows: 1, sample: [`account_id=1 media_part_id=${parts.f.id}`] }],
    });
    expect(rows(incoming, 'SELECT media_part_id, selected_audio_stream_id, selected_subtitle_stream_id FROM media_part_settings ORDER BY id')).toEqual([
      { media_part_id: parts.a.id + 100000, selected_audio_stream_id: streams.a + 100000, selected_subtitle_stream_id: null },
      { media_part_id: parts.d.id + 100000, selected_audio_stream_id: streams.d + 100000, selected_subtitle_stream_id: 0 },
    ]);
    expect(rows(incoming, 'SELECT media_stream_id, extra_data FROM media_stream_settings')).toEqual([{ media_stream_id: streams.d + 100000, extra_data: 'x' }]);
    expect(rows(incoming, 'SELECT id, name FROM accounts WHERE id = 424242')).toEqual([{ id: 424242, name: 'Kid' }]);
  });

  it('returns the playlists home made, with their items by guid, for Plex to make again; lists an item changed at home as not carried', () => {
    const { base, home, incoming, episode, guids } = threeWay();
    editLibrary(
      home,
      `INSERT INTO metadata_items (metadata_type, guid, title, title_sort, added_at, created_at, updated_at) VALUES (15, 'com.plexapp.agents.none://p-1', 'Weekend', 'Weekend', ${T0}, ${T0}, ${T0});
       INSERT INTO play_queue_generators (playlist_id, metadata_item_id, "order", created_at, updated_at)
         SELECT (SELECT id FROM metadata_items WHERE guid = 'com.plexapp.agents.none://p-1'), id, CASE guid WHEN '${guids.b}' THEN 1000 ELSE 2000 END, ${T0}, ${T0}
           FROM metadata_items WHERE guid IN ('${guids.a}', '${guids.b}');`,
    );
    expect(mergeUserState({ base, home, incoming })).toMatchObject({
      playlists: [{ guid: 'com.plexapp.agents.none://p-1', title: 'Weekend', change: 'added', type: 'video', items: [guids.b, guids.a] }],
    });
    // A playlist is reported on its own, not as a change of metadata_items.
    expect(tablesChangedAtHome({ base, home })).toEqual([]);
    editLibrary(home, `UPDATE metadata_items SET updated_at = ${T0 + 99} WHERE id = ${episode.id};`);
    expect(tablesChangedAtHome({ base, home })).toEqual([{ table: 'metadata_items', rows: { base: expect.any(Number), home: expect.any(Number) } }]);
  });

  it('a local:// guid names another item in the new library: not carried, reported; subtitles turned off (0) are a choice, not the default (NULL)', () => {
    const { base, home, incoming, parts, streams } = threeWay();
    editLibrary(
      home,
      `INSERT INTO metadata_item_settings (account_id, guid, view_count, created_at, updated_at) VALUES (1, 'local://4242', 1, ${T0}, ${T0});
       UPDATE media_part_settings SET selected_subtitle_stream_id = 0 WHERE media_part_id = ${parts.a.id};`,
    );
    const report = mergeUserState({ base, home, incoming });
    expect(report.tables.find((t) => t.table === 'metadata_item_settings')?.notCarried).toEqual([
      { reason: 'its item has a local guid (local://), which names another item in the new library', rows: 1, sample: ['account_id=1 guid=local://4242'] },
    ]);
    expect(rows(incoming, `SELECT count(*) AS n FROM metadata_item_settings WHERE guid = 'local://4242'`)).toEqual([{ n: 0 }]);
    expect(
      rows(incoming, 'SELECT selected_audio_stream_id, selected_subtitle_stream_id FROM media_part_settings WHERE media_part_id = ?', parts.a.id + 100000),
    ).toEqual([{ selected_audio_stream_id: streams.a + 100000, selected_subtitle_stream_id: 0 }]);
  });

  it('refuses, before anything is stopped, a new library whose merged tables are views or that brings triggers of its own', () => {
    const { base, incoming } = threeWay();
    expect(() => assertMergeable({ base, incoming })).not.toThrow();
    const db = new Database(incoming);
    db.exec(`CREATE TRIGGER spin AFTER INSERT ON metadata_item_settings BEGIN UPDATE accounts SET name = 'x'; END;`);
    db.close();
    expect(() => assertMergeable({ base, incoming })).toThrow(
      /^the new library has a trigger "spin" the library it was built from does not have; nothing was installed/,
    );
    const other = threeWay();
    const swapped = new Database(other.incoming);
    swapped.exec(
      `DROP TABLE accounts; CREATE VIEW accounts AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT i AS id, '' AS name FROM n;`,
    );
    swapped.close();
    expect(() => assertMergeable({ base: other.base, incoming: other.incoming })).toThrow(/holds accounts as a view, not a plain table/);
  });
});
