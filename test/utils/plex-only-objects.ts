import Database from 'better-sqlite3';
import { findPlexOnlyObjects, readSchema, type SchemaObject } from '@plexlift/shared/plex-db';

/** The Plex-only objects that block writes with stock SQLite, saved to be put back. */
export interface SetAsideObjects {
  triggers: SchemaObject[];
  indexes: SchemaObject[];
}

/**
 * Drops the `_icu` triggers and the custom-collation indexes so stock SQLite can write
 * `metadata_items` and `tags` (plex-db.md §3.3). The collating FTS and spellfix tables stay:
 * nothing writes them once the triggers are gone. Call inside a transaction.
 */
export function setAsidePlexObjects(db: Database.Database): SetAsideObjects {
  const plexOnly = findPlexOnlyObjects(readSchema(db));
  const saved = {
    triggers: plexOnly.filter((o) => o.kind === 'fts-trigger'),
    indexes: plexOnly.filter((o) => o.kind === 'custom-collation-index'),
  };
  for (const trigger of saved.triggers) db.exec(`DROP TRIGGER "${trigger.name}"`);
  for (const index of saved.indexes) db.exec(`DROP INDEX "${index.name}"`);
  return { triggers: saved.triggers.map(strip), indexes: saved.indexes.map(strip) };
}

/**
 * Puts the objects back as PMS has them: triggers from their SQL; each index built under NOCASE,
 * then declared with its real collation through `writable_schema`, since what stock SQLite trips
 * on is the declared collation. (The order is right for ASCII titles only: fine in a test
 * double, never in a user's DB.) The caller must reopen the connection afterwards: a connection
 * keeps the schema it parsed.
 */
export function restorePlexObjects(db: Database.Database, saved: SetAsideObjects): void {
  db.transaction(() => {
    for (const index of saved.indexes) db.exec((index.sql ?? '').replace(/COLLATE\s+(icu_root|naturalsort)/i, 'COLLATE NOCASE'));
    for (const trigger of saved.triggers) db.exec(trigger.sql ?? '');
  })();
  if (saved.indexes.length === 0) return;
  const version = db.pragma('schema_version', { simple: true }) as number;
  db.unsafeMode(true); // lifts SQLITE_DBCONFIG_DEFENSIVE, which forbids writable_schema
  try {
    db.pragma('writable_schema = ON');
    const update = db.prepare(`UPDATE sqlite_schema SET sql = ? WHERE type = 'index' AND name = ?`);
    for (const index of saved.indexes) update.run(index.sql, index.name);
    db.pragma(`schema_version = ${version + 1}`);
    db.pragma('writable_schema = OFF');
  } finally {
    db.unsafeMode(false);
  }
}

function strip(object: SchemaObject): SchemaObject {
  return { type: object.type, name: object.name, tableName: object.tableName, sql: object.sql };
}

/** Runs `sql` on a library DB with stock SQLite, Plex's own objects set aside and put back (a test's edit of a real-schema DB). */
export function editLibrary(path: string, sql: string): void {
  const db = new Database(path);
  try {
    const aside = db.transaction(() => {
      const saved = setAsidePlexObjects(db);
      db.exec(sql);
      return saved;
    })();
    restorePlexObjects(db, aside);
  } finally {
    db.close();
  }
}

/**
 * What a second build of the same library looks like: every local id different (sections, items,
 * media, parts, streams), the section uuids kept. Run through `editLibrary`.
 */
export const RENUMBER_LIBRARY_SQL = `
  UPDATE library_sections SET id = id + 50;
  UPDATE section_locations SET library_section_id = library_section_id + 50;
  UPDATE metadata_items SET library_section_id = library_section_id + 50 WHERE library_section_id IS NOT NULL;
  UPDATE media_items SET library_section_id = library_section_id + 50 WHERE library_section_id IS NOT NULL;
  UPDATE metadata_items SET parent_id = parent_id + 100000 WHERE parent_id IS NOT NULL;
  UPDATE metadata_items SET id = id + 100000;
  UPDATE media_items SET metadata_item_id = metadata_item_id + 100000, id = id + 100000;
  UPDATE media_parts SET media_item_id = media_item_id + 100000, id = id + 100000;
  UPDATE media_streams SET media_item_id = media_item_id + 100000, media_part_id = media_part_id + 100000, id = id + 100000;
  UPDATE media_part_settings SET media_part_id = media_part_id + 100000,
    selected_audio_stream_id = CASE WHEN selected_audio_stream_id > 0 THEN selected_audio_stream_id + 100000 ELSE selected_audio_stream_id END,
    selected_subtitle_stream_id = CASE WHEN selected_subtitle_stream_id > 0 THEN selected_subtitle_stream_id + 100000 ELSE selected_subtitle_stream_id END;
  UPDATE media_stream_settings SET media_stream_id = media_stream_id + 100000;
  UPDATE metadata_item_views SET library_section_id = library_section_id + 50 WHERE library_section_id IS NOT NULL;
`;
