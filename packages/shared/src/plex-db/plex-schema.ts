import { PlexliftError } from '../errors.js';
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './open-database.js';

/** One row of `sqlite_schema`. */
export interface SchemaObject {
  type: 'table' | 'index' | 'trigger' | 'view';
  name: string;
  tableName: string;
  sql: string | null;
}

/**
 * Why stock SQLite (better-sqlite3, Debian's `sqlite3`) cannot use an object of a Plex DB
 * (plex-db.md §3): Plex's own SQLite knows the `collating` FTS tokenizer and the `icu_root` and
 * `naturalsort` collations; `spellfix1` is an extension nobody else loads.
 */
export type PlexOnlyKind =
  | 'collating-fts' // CREATE VIRTUAL TABLE … USING fts4(…, tokenize=collating …)
  | 'spellfix' // CREATE VIRTUAL TABLE … USING spellfix1
  | 'custom-collation-index' // CREATE INDEX … COLLATE icu_root | naturalsort
  | 'fts-trigger'; // a trigger that writes to a collating FTS table (the `_icu` triggers)

export interface PlexOnlyObject extends SchemaObject {
  kind: PlexOnlyKind;
}

export function readSchema(db: SqliteDatabase, schema = 'main'): SchemaObject[] {
  return db.prepare(`SELECT type, name, tbl_name AS tableName, sql FROM "${schema}".sqlite_schema ORDER BY rowid`).all() as SchemaObject[];
}

const COLLATING_FTS = /\bUSING\s+fts[34]\s*\([^]*\btokenize\s*=\s*collating\b/i;
const SPELLFIX = /\bUSING\s+spellfix1\b/i;
const CUSTOM_COLLATION = /\bCOLLATE\s+['"`]?(icu_root|naturalsort)\b/i;
const VIRTUAL_TABLE = /^\s*CREATE\s+VIRTUAL\s+TABLE/i;
const FTS_TABLE = /\bUSING\s+fts[345]\s*\(/i;

export function isVirtualTable(object: SchemaObject): boolean {
  return object.type === 'table' && object.sql !== null && VIRTUAL_TABLE.test(object.sql);
}

export function isFtsTable(object: SchemaObject): boolean {
  return isVirtualTable(object) && FTS_TABLE.test(object.sql ?? '');
}

/** The objects of a Plex DB that stock SQLite trips on, in schema order. */
export function findPlexOnlyObjects(schema: SchemaObject[]): PlexOnlyObject[] {
  const found: PlexOnlyObject[] = [];
  const collatingTables: string[] = [];
  for (const object of schema) {
    const sql = object.sql ?? '';
    if (isVirtualTable(object) && COLLATING_FTS.test(sql)) {
      found.push({ ...object, kind: 'collating-fts' });
      collatingTables.push(object.name.toLowerCase());
    } else if (isVirtualTable(object) && SPELLFIX.test(sql)) {
      found.push({ ...object, kind: 'spellfix' });
    } else if (object.type === 'index' && CUSTOM_COLLATION.test(sql)) {
      found.push({ ...object, kind: 'custom-collation-index' });
    }
  }
  for (const object of schema) {
    if (object.type !== 'trigger' || object.sql === null) continue;
    const body = object.sql.toLowerCase();
    if (collatingTables.some((table) => referencesName(body, table))) {
      found.push({ ...object, kind: 'fts-trigger' });
    }
  }
  return found;
}

function referencesName(sqlLowerCase: string, name: string): boolean {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^a-z0-9_])['"\`\\[]?${escaped}['"\`\\]]?($|[^a-z0-9_])`).test(sqlLowerCase);
}

/**
 * Runs `write` with the `_icu` FTS triggers of `table` dropped, and re-creates them from their
 * saved SQL in the same transaction (plex-db.md §3.4.3). Only for writes that change no title
 * column (title, title_sort, original_title, tags.tag): those would leave the ICU index stale.
 * The transaction is the caller's: call this inside `db.transaction`.
 */
export function withFtsTriggersSetAside<T>(db: SqliteDatabase, table: string, write: () => T): T {
  const triggers = findPlexOnlyObjects(readSchema(db)).filter(
    (object) => object.kind === 'fts-trigger' && object.tableName.toLowerCase() === table.toLowerCase(),
  );
  for (const trigger of triggers) db.exec(`DROP TRIGGER ${quoteIdentifier(trigger.name)}`);
  // Each is checked before anything is written: a refusal rolls the caller's transaction back.
  const recreate = triggers.map((trigger) => prepareTriggerRecreation(db, trigger));
  const result = write();
  for (const statement of recreate) statement.run();
  return result;
}

const CREATE_TRIGGER = /^\s*CREATE\s+TRIGGER\s/i;

/**
 * The statement that re-creates a dropped trigger from its stored SQL. That SQL comes from the DB
 * file, which a VM or anyone who can write the Plex folder may have crafted: it is never given to
 * `exec` (which runs every statement in a string: `…END; ATTACH …; INSERT …` would write another
 * file). SQLite itself parses it: `prepare` takes exactly one complete statement and refuses a
 * string with more; the statement must be a `CREATE TRIGGER` (no ATTACH fits inside a trigger).
 * Call it after the trigger was dropped (SQLite refuses to prepare a trigger that exists).
 */
function prepareTriggerRecreation(db: SqliteDatabase, trigger: SchemaObject): Statement<[]> {
  const refuse = (problem: string, cause?: unknown): never => {
    throw new PlexliftError(
      'SAFETY_STOP',
      `trigger ${JSON.stringify(trigger.name)} on ${trigger.tableName}: its stored SQL ${problem}; this DB's schema was altered, nothing was changed`,
      { details: { trigger: trigger.name, table: trigger.tableName }, ...(cause === undefined ? {} : { cause }) },
    );
  };
  const sql = trigger.sql ?? '';
  if (!CREATE_TRIGGER.test(sql)) refuse('is not a CREATE TRIGGER statement');
  let statement: Statement<[]>;
  try {
    statement = db.prepare<[]>(sql);
  } catch (error) {
    return refuse(`is not one valid CREATE TRIGGER statement (${(error as Error).message})`, error);
  }
  if (statement.reader) refuse('returns rows');
  return statement;
}

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
