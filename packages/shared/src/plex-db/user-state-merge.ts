import { PlexliftError } from '../errors.js';
import { closeDatabase, openDatabaseForWrite, openDatabaseReadOnly, type SqliteDatabase } from './open-database.js';
import { isFtsTable, isVirtualTable, quoteIdentifier, readSchema } from './plex-schema.js';
import { StableKeys } from './stable-keys.js';

/**
 * What people did at home while a job ran, carried onto the library the job built (issue 18). A
 * three-way merge: `base` is the snapshot the job started from, `home` the home DB at install
 * (Plex stopped), `incoming` the DB from the VM (staged, written here). Whatever home changed
 * since `base` in the tables below is applied onto `incoming`; home wins where both changed a
 * row. Rows are matched by stable keys (StableKeys), never by local ids, which differ between
 * the two builds. None of these tables has Plex's collating FTS triggers, so stock SQLite writes
 * them safely.
 *
 * | table                   | a row is                                   | home's change since base              | its item not in the new library        |
 * |-------------------------|--------------------------------------------|---------------------------------------|----------------------------------------|
 * | `accounts`              | the plex.tv account id                     | added, changed or removed: the same   | —                                      |
 * | `devices`               | its `identifier`                           | added or changed: the same            | —                                      |
 * | `metadata_item_settings`| account + guid (watched, progress, rating) | set or cleared: the same, home wins   | carried: Plex keys it by guid and applies it once the item is scanned; reported |
 * | `metadata_item_views`   | the whole row (play history, one per play) | plays added or deleted: the same      | carried, as history; reported          |
 * | `media_part_settings`   | account + the part's file (chosen streams) | set or changed: the same, home wins   | not carried (no part to attach to); reported |
 * | `media_stream_settings` | account + the stream (file, type, index)   | set or changed: the same, home wins   | not carried; reported                  |
 *
 * Playlists (a `metadata_items` row of type 15 and its `play_queue_generators`) sit under Plex's
 * collating indexes and FTS triggers, which only Plex may write: the ones home made during the job
 * are returned with their items by guid, for the home Plex to make again through its API once the
 * new library runs; one changed or deleted at home is reported, not carried. Not carried, and
 * listed when home changed them: collections edited by hand, everything the job rebuilt (items,
 * media, metadata); Plex's own bookkeeping (`statistics_*`, play queues) is not listed.
 */
export interface UserStateMergeReport {
  /** Per merged table: rows carried, and those not carried with why. */
  tables: TableMerge[];
  /**
   * Playlists made at home since the snapshot, with their items by guid: Plex makes them again
   * through its API once the new library runs (their rows sit under Plex's collating indexes,
   * which only Plex may write). Playlists changed or deleted at home are listed, not carried.
   */
  playlists: PlaylistChange[];
  durationMs: number;
}

/** A table whose rows home changed since the snapshot. */
export interface TableChange {
  table: string;
  rows: { base: number; home: number };
}

export interface TableMerge {
  table: string;
  /** Rows added or changed at home, written onto the new library. */
  carried: number;
  /** Rows removed at home, removed from the new library. */
  removed: number;
  /** Carried, but their item is not in the new library yet (Plex applies them once it is scanned). */
  waiting: number;
  notCarried: { reason: string; rows: number; sample: string[] }[];
}

export interface PlaylistChange {
  guid: string;
  title: string;
  change: 'added' | 'changed' | 'removed';
  /** What it holds: `video`, `audio` or `photo`, from its items. */
  type: 'video' | 'audio' | 'photo';
  /** Its items' guids, in order. */
  items: string[];
}

interface Rule {
  table: string;
  /** The row's identity across builds; `undefined` when it cannot be told (its part is gone). */
  key: (row: Row, keys: StableKeys) => string | undefined;
  /** Columns holding local ids, as stable keys and back. */
  locals?: Record<string, LocalId>;
  /** History: a key may repeat (a film played twice); counted, never updated. */
  multiset?: boolean;
  /** Written with its own id (accounts: plex.tv's ids). */
  keepId?: boolean;
  /** The guid whose item should exist in the new library. */
  guid?: (row: Row) => string | null;
  /** Without these translated, the row means nothing in the new library. */
  required?: string[];
  /** Why a row without a key (see `key`) that home added or changed is not carried. */
  unkeyed?: string;
  /** Rows removed at home stay in the new library (a device its plays still name). */
  keepRemoved?: boolean;
}

type Row = Record<string, unknown>;
type LocalId = { toKey: (keys: StableKeys, id: number | null) => string | undefined; toId: (keys: StableKeys, key: string | undefined) => number | undefined };

const PART: LocalId = { toKey: (k, id) => k.part(id), toId: (k, key) => k.partId(key) };
const STREAM: LocalId = { toKey: (k, id) => k.stream(id), toId: (k, key) => k.streamId(key) };
const SECTION: LocalId = { toKey: (k, id) => k.section(id), toId: (k, key) => k.sectionId(key) };
const DEVICE: LocalId = { toKey: (k, id) => k.device(id), toId: (k, key) => k.deviceId(key) };

const RULES: Rule[] = [
  { table: 'accounts', key: (row) => String(row.id), keepId: true },
  {
    table: 'devices',
    key: (row) => (typeof row.identifier === 'string' && row.identifier !== '' ? row.identifier : undefined),
    unkeyed: 'the device has no identifier',
    keepRemoved: true,
  },
  {
    table: 'metadata_item_settings',
    key: (row) => JSON.stringify([row.account_id, row.guid]),
    guid: (row) => row.guid as string | null,
  },
  {
    table: 'metadata_item_views',
    key: () => '',
    multiset: true,
    locals: { library_section_id: SECTION, device_id: DEVICE },
    guid: (row) => row.guid as string | null,
  },
  {
    table: 'media_part_settings',
    key: (row, keys) => {
      const part = keys.part(row.media_part_id as number | null);
      return part === undefined ? undefined : JSON.stringify([row.account_id, part]);
    },
    locals: { media_part_id: PART, selected_audio_stream_id: STREAM, selected_subtitle_stream_id: STREAM },
    required: ['media_part_id', 'selected_audio_stream_id', 'selected_subtitle_stream_id'],
    unkeyed: 'its media part is not in the home library any more',
  },
  {
    table: 'media_stream_settings',
    key: (row, keys) => {
      const stream = keys.stream(row.media_stream_id as number | null);
      return stream === undefined ? undefined : JSON.stringify([row.account_id, stream]);
    },
    locals: { media_stream_id: STREAM },
    required: ['media_stream_id'],
    unkeyed: 'its media part is not in the home library any more',
  },
];

/** Tables whose changes are Plex's own bookkeeping, never a person's (or, for playlists, reported on their own): not listed. */
const BOOKKEEPING = /^(sqlite_|statistics_|activities$|schema_migrations$|preferences$|play_queues$|play_queue_items$|play_queue_generators$)/;
/** Rows of a table that belong to a change reported on its own (playlists are items of no section). */
const REPORTED_APART: Record<string, string> = { metadata_items: 'metadata_type <> 15' };
const SAMPLE = 5;

/**
 * The tables other than the merged ones whose rows home changed since the snapshot: not carried,
 * reported. It reads both DBs whole, so it runs while the home Plex still serves (home read-only),
 * not in the downtime the merge itself adds.
 */
export function tablesChangedAtHome(paths: { base: string; home: string }): TableChange[] {
  const base = openDatabaseReadOnly(paths.base, 'base DB');
  const home = openDatabaseReadOnly(paths.home, 'home DB');
  try {
    const merged = new Set(RULES.map((rule) => rule.table));
    return changedTables(base, home).filter((change) => !merged.has(change.table));
  } finally {
    closeDatabase(home);
    closeDatabase(base);
  }
}

/**
 * Refuses, before the home Plex is stopped, a new library the merge should not write: one whose
 * merged tables are not plain tables, or with triggers or views the snapshot it was built from
 * does not have (a VM can send any SQLite file: a view over an endless query or a trigger would
 * run in the merge).
 */
export function assertMergeable(paths: { base: string; incoming: string }): void {
  const home = openDatabaseReadOnly(paths.base, 'base DB');
  const incoming = openDatabaseReadOnly(paths.incoming, 'incoming DB');
  try {
    const known = new Set(
      readSchema(home)
        .filter((o) => o.type === 'trigger' || o.type === 'view')
        .map((o) => `${o.type}:${o.name}:${o.sql ?? ''}`),
    );
    const schema = readSchema(incoming);
    const refuse = (problem: string) => new PlexliftError('SAFETY_STOP', `the new library ${problem}; nothing was installed and home is as it was`);
    for (const rule of RULES) {
      const object = schema.find((o) => o.name === rule.table);
      if (object && (object.type !== 'table' || isVirtualTable(object))) throw refuse(`holds ${rule.table} as a ${object.type}, not a plain table`);
    }
    const foreign = schema.find((o) => (o.type === 'trigger' || o.type === 'view') && !known.has(`${o.type}:${o.name}:${o.sql ?? ''}`));
    if (foreign) throw refuse(`has a ${foreign.type} "${foreign.name}" the library it was built from does not have`);
  } finally {
    closeDatabase(incoming);
    closeDatabase(home);
  }
}

export function mergeUserState(paths: { base: string; home: string; incoming: string }): UserStateMergeReport {
  const started = performance.now();
  const base = openDatabaseReadOnly(paths.base, 'base DB');
  const home = openDatabaseReadOnly(paths.home, 'home DB');
  const incoming = openDatabaseForWrite(paths.incoming, { field: 'incoming DB' });
  try {
    const keys = { base: new StableKeys(base), home: new StableKeys(home), incoming: new StableKeys(incoming) };
    const tables: TableMerge[] = incoming.transaction(() =>
      RULES.filter((rule) => hasTable(base, rule.table) && hasTable(home, rule.table) && hasTable(incoming, rule.table)).map((rule) =>
        mergeTable(rule, { base, home, incoming }, keys),
      ),
    )();
    verifyWritten(
      incoming,
      tables.filter((t) => t.carried > 0 || t.removed > 0).map((t) => t.table),
    );
    return { tables, playlists: playlistChanges(base, home), durationMs: Math.round(performance.now() - started) };
  } finally {
    closeDatabase(incoming);
    closeDatabase(home);
    closeDatabase(base);
  }
}

/**
 * The tables the merge wrote, each checked with its indexes (`PRAGMA integrity_check(table)`):
 * the rest of the DB was checked whole before and is untouched, and a whole check of a 500k-item
 * library would keep the home Plex stopped for half a minute more.
 */
function verifyWritten(db: SqliteDatabase, tables: string[]): void {
  for (const table of tables) {
    const problems = (
      db
        .prepare(`PRAGMA integrity_check(${quoteIdentifier(table)})`)
        .pluck()
        .all() as string[]
    ).filter((line) => line !== 'ok');
    if (problems.length > 0)
      throw new PlexliftError('SAFETY_STOP', `the merge of what home did during the job left ${table} damaged (${problems[0] ?? ''}); nothing was installed`);
  }
}

function hasTable(db: SqliteDatabase, table: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?`).get(table) !== undefined;
}

function columnsOf(db: SqliteDatabase, table: string): string[] {
  return (db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).map((c) => c.name);
}

/** The row as the same thing in any build: no id, local ids as stable keys. */
function stableContent(rule: Rule, row: Row, keys: StableKeys, columns: string[]): string {
  return JSON.stringify(
    columns
      .filter((c) => c !== 'id' || rule.keepId)
      .map((c) => {
        const local = rule.locals?.[c];
        // 0 (a subtitle turned off) is a choice, not an id; NULL is Plex's default.
        return local && row[c] !== 0 && row[c] !== null ? (local.toKey(keys, row[c] as number) ?? null) : row[c];
      }),
  );
}

function mergeTable(
  rule: Rule,
  db: { base: SqliteDatabase; home: SqliteDatabase; incoming: SqliteDatabase },
  keys: { base: StableKeys; home: StableKeys; incoming: StableKeys },
): TableMerge {
  // Columns all three know: a newer Plex may have added some to one side.
  const shared = new Set(columnsOf(db.base, rule.table));
  const incomingColumns = new Set(columnsOf(db.incoming, rule.table));
  const columns = columnsOf(db.home, rule.table).filter((c) => shared.has(c) && incomingColumns.has(c));
  const table = quoteIdentifier(rule.table);
  const read = (source: SqliteDatabase) => source.prepare(`SELECT ${columns.map(quoteIdentifier).join(', ')} FROM ${table} ORDER BY rowid`).all() as Row[];
  // A `local://` guid is built from a local id: in the new library it names another item.
  const localGuid = (row: Row) => rule.guid?.(row)?.startsWith('local://') === true;
  const identify = (row: Row, k: StableKeys) => (localGuid(row) ? undefined : rule.multiset ? stableContent(rule, row, k, columns) : rule.key(row, k));

  const result: TableMerge = { table: rule.table, carried: 0, removed: 0, waiting: 0, notCarried: [] };
  const notCarried = new Map<string, { rows: number; sample: string[] }>();
  const refuse = (reason: string, row: Row) => {
    const entry = notCarried.get(reason) ?? { rows: 0, sample: [] };
    entry.rows += 1;
    if (entry.sample.length < SAMPLE) entry.sample.push(describeRow(row));
    notCarried.set(reason, entry);
  };

  const baseRows = new Map<string, { content: string; count: number }>();
  const baseUnkeyed = new Set<string>();
  for (const row of read(db.base)) {
    const key = identify(row, keys.base);
    if (key === undefined) {
      baseUnkeyed.add(stableContent(rule, row, keys.base, columns));
      continue;
    }
    const seen = baseRows.get(key);
    baseRows.set(key, { content: seen?.content ?? stableContent(rule, row, keys.base, columns), count: (seen?.count ?? 0) + 1 });
  }
  const homeRows = new Map<string, { row: Row; content: string; count: number; rows: Row[] }>();
  const homeUnkeyed: Row[] = [];
  for (const row of read(db.home)) {
    const key = identify(row, keys.home);
    if (key === undefined) {
      homeUnkeyed.push(row);
      continue;
    }
    const seen = homeRows.get(key);
    if (seen) {
      seen.count += 1;
      seen.rows.push(row);
    } else homeRows.set(key, { row, content: stableContent(rule, row, keys.home, columns), count: 1, rows: [row] });
  }
  // A row home added or changed that has no key (its part gone at home too): nothing to carry.
  for (const row of homeUnkeyed)
    if (!baseUnkeyed.has(stableContent(rule, row, keys.home, columns)))
      refuse(
        localGuid(row) ? 'its item has a local guid (local://), which names another item in the new library' : (rule.unkeyed ?? 'it has no stable key'),
        row,
      );

  const incomingIds = new Map<string, number[]>();
  for (const row of db.incoming
    .prepare(
      `SELECT id, ${columns
        .filter((c) => c !== 'id')
        .map(quoteIdentifier)
        .join(', ')} FROM ${table} ORDER BY rowid`,
    )
    .all() as Row[]) {
    const key = identify(row, keys.incoming);
    if (key === undefined) continue;
    const ids = incomingIds.get(key);
    if (ids) ids.push(row.id as number);
    else incomingIds.set(key, [row.id as number]);
  }

  const writable = columns.filter((c) => c !== 'id' || rule.keepId);
  const insert = db.incoming.prepare(`INSERT INTO ${table} (${writable.map(quoteIdentifier).join(', ')}) VALUES (${writable.map(() => '?').join(', ')})`);
  const update = db.incoming.prepare(`UPDATE ${table} SET ${writable.map((c) => `${quoteIdentifier(c)} = ?`).join(', ')} WHERE id = ?`);
  const remove = db.incoming.prepare(`DELETE FROM ${table} WHERE id = ?`);
  const hasItem = rule.guid ? db.incoming.prepare('SELECT 1 FROM metadata_items WHERE guid = ? AND deleted_at IS NULL LIMIT 1') : undefined;

  /** Home's row with its local ids as the new library's; undefined (and said) when one has no counterpart. */
  const translate = (row: Row): unknown[] | undefined => {
    const values: unknown[] = [];
    for (const column of writable) {
      const local = rule.locals?.[column];
      const value = row[column];
      if (!local || value === null || value === 0) {
        values.push(value);
        continue;
      }
      const id = local.toId(keys.incoming, local.toKey(keys.home, value as number));
      if (id === undefined) {
        if (rule.required?.includes(column)) {
          refuse(
            column === 'media_part_id' || column === 'media_stream_id' ? 'its file is not in the new library' : 'the chosen stream is not in the new library',
            row,
          );
          return undefined;
        }
        values.push(null);
      } else values.push(id);
    }
    return values;
  };
  const carry = (row: Row, values: unknown[]) => {
    result.carried += 1;
    const guid = rule.guid?.(row);
    if (hasItem && guid && hasItem.get(guid) === undefined) result.waiting += 1;
    return values;
  };

  for (const [key, { row, content, count, rows }] of homeRows) {
    const before = baseRows.get(key);
    const ids = incomingIds.get(key) ?? [];
    if (rule.multiset) {
      // Plays home added since the snapshot, each once more in the new library.
      for (const added of rows.slice(before?.count ?? 0, count)) {
        const values = translate(added);
        if (values) insert.run(...carry(added, values));
      }
      continue;
    }
    if (before?.content === content) continue;
    const values = translate(row);
    if (!values) continue;
    carry(row, values);
    // Home wins: its row replaces whatever the new library has under that key (duplicates go).
    if (ids.length > 0) {
      update.run(...values, ids[0]);
      for (const extra of ids.slice(1)) remove.run(extra);
    } else insert.run(...values);
  }
  for (const [key, { count }] of rule.keepRemoved ? [] : baseRows) {
    const left = homeRows.get(key)?.count ?? 0;
    if (left >= count) continue;
    // Removed at home since the snapshot (unwatched, a play deleted, a stream choice reset).
    const ids = incomingIds.get(key) ?? [];
    const wanted = rule.multiset ? count - left : ids.length;
    for (const id of ids.slice(0, wanted)) {
      remove.run(id);
      result.removed += 1;
    }
    // A play the new library holds changed (the VM touched it) is not found by its content.
    if (rule.multiset && ids.length < wanted)
      for (let i = ids.length; i < wanted; i++) refuse('removed at home, but the new library holds it changed', JSON.parse(key) as Row);
  }
  result.notCarried = [...notCarried].map(([reason, entry]) => ({ reason, ...entry }));
  return result;
}

function describeRow(row: Row): string {
  const parts = ['account_id', 'guid', 'title', 'media_part_id', 'media_stream_id', 'identifier', 'name'].filter(
    (c) => row[c] !== undefined && row[c] !== null,
  );
  return parts.map((c) => `${c}=${String(row[c])}`).join(' ');
}

/**
 * Tables (FTS shadows and Plex's bookkeeping left out) whose rows home changed since the
 * snapshot, by a cheap signature: the row count, the highest rowid and, where the table has
 * them, the latest `updated_at` and `changed_at`.
 */
function changedTables(base: SqliteDatabase, home: SqliteDatabase): { table: string; rows: { base: number; home: number } }[] {
  const schema = readSchema(home);
  const shadows = schema.filter(isFtsTable).map((fts) => `${fts.name}_`);
  const baseTables = new Set(
    readSchema(base)
      .filter((o) => o.type === 'table')
      .map((o) => o.name),
  );
  const changes: { table: string; rows: { base: number; home: number } }[] = [];
  for (const object of schema) {
    if (object.type !== 'table' || isFtsTable(object) || BOOKKEEPING.test(object.name) || shadows.some((prefix) => object.name.startsWith(prefix))) continue;
    if (object.sql && /^\s*CREATE\s+VIRTUAL/i.test(object.sql)) continue;
    const columns = columnsOf(home, object.name);
    const stamps = ['updated_at', 'changed_at'].filter((c) => columns.includes(c)).map((c) => `max(${quoteIdentifier(c)})`);
    const where = REPORTED_APART[object.name] ? ` WHERE ${REPORTED_APART[object.name]}` : '';
    const signature = (db: SqliteDatabase) =>
      db
        .prepare(`SELECT count(*) AS n, ${['max(rowid)', ...stamps].join(', ')} FROM ${quoteIdentifier(object.name)}${where}`)
        .raw()
        .get() as unknown[];
    const after = signature(home);
    const before = baseTables.has(object.name) ? signature(base) : [0];
    if (JSON.stringify(before) !== JSON.stringify(after)) changes.push({ table: object.name, rows: { base: Number(before[0]), home: Number(after[0]) } });
  }
  return changes;
}

/** The playlists home added, changed or deleted since the snapshot, by guid, with their items by guid. */
function playlistChanges(base: SqliteDatabase, home: SqliteDatabase): PlaylistChange[] {
  const read = (db: SqliteDatabase) => {
    const items = db.prepare(
      `SELECT i.guid, i.metadata_type AS type FROM play_queue_generators g JOIN metadata_items i ON i.id = g.metadata_item_id
        WHERE g.playlist_id = ? ORDER BY g."order", g.id`,
    );
    const playlists = new Map<string, { title: string; items: { guid: string; type: number }[] }>();
    for (const row of db.prepare('SELECT id, guid, title FROM metadata_items WHERE metadata_type = 15 AND deleted_at IS NULL ORDER BY id').all() as {
      id: number;
      guid: string | null;
      title: string | null;
    }[]) {
      if (row.guid) playlists.set(row.guid, { title: row.title ?? '', items: items.all(row.id) as { guid: string; type: number }[] });
    }
    return playlists;
  };
  const before = read(base);
  const after = read(home);
  const changes: PlaylistChange[] = [];
  const kind = (types: number[]): PlaylistChange['type'] => (types.includes(10) ? 'audio' : types.includes(13) ? 'photo' : 'video');
  const describe = (guid: string, playlist: { title: string; items: { guid: string; type: number }[] }, change: PlaylistChange['change']) => ({
    guid,
    title: playlist.title,
    change,
    type: kind(playlist.items.map((i) => i.type)),
    items: playlist.items.map((i) => i.guid),
  });
  for (const [guid, playlist] of after) {
    const earlier = before.get(guid);
    if (!earlier) changes.push(describe(guid, playlist, 'added'));
    else if (JSON.stringify(earlier) !== JSON.stringify(playlist)) changes.push(describe(guid, playlist, 'changed'));
  }
  for (const [guid, playlist] of before) if (!after.has(guid)) changes.push(describe(guid, playlist, 'removed'));
  return changes;
}
