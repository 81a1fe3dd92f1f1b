import Database from 'better-sqlite3';
import { join } from 'node:path';
import { PlexliftError } from '../errors.js';
import { assertSqliteFile } from './database-files.js';
import { backupDatabase, type CopyProgress } from './backup-database.js';
import { findPlexOnlyObjects, isFtsTable, quoteIdentifier, readSchema, type SchemaObject } from './plex-schema.js';
import { createScratchDir, databaseBytes } from './scratch-space.js';

export interface IntegrityReport {
  path: string;
  ok: boolean;
  /** Problems as SQLite words them, at most `maxProblems`. */
  problems: string[];
  /** Tables and indexes named by the problems. */
  damaged: string[];
  /** Objects whose content stock SQLite cannot verify, and why. Not damage. */
  unchecked: { name: string; reason: string }[];
  durationMs: number;
}

export interface IntegrityCheckOptions {
  /** Where the scratch copy goes (default: the system temp folder, else beside the DB). */
  scratchDir?: string | undefined;
  /** Stop after this many problems (default 100). */
  maxProblems?: number;
  onProgress?: (progress: { step: 'copy' | 'check'; copy?: CopyProgress }) => void;
  signal?: AbortSignal;
}

/**
 * Checks the B-trees of a Plex DB with stock SQLite. `PRAGMA integrity_check` on the file itself
 * fails on every healthy modern Plex DB (`collating` tokenizer, `icu_root`/`naturalsort`
 * collations), and `SELECT count(*)` misses real corruption (plex-db.md §11, Traps: stock
 * `integrity_check` fails on healthy Plex DBs).
 * So: an online-backup copy (page for page, damage included) with the Plex-only objects
 * removed, then a full `integrity_check` of it, which covers every table, every index but the
 * custom-collation ones, the FTS shadow tables, the freelist and page accounting. When it finds
 * damage, per-table checks name the tables. The user's file is only read.
 */
export async function checkIntegrity(path: string, options: IntegrityCheckOptions = {}): Promise<IntegrityReport> {
  const started = performance.now();
  const report = (problems: string[], damaged: string[], unchecked: IntegrityReport['unchecked']): IntegrityReport => ({
    path,
    ok: problems.length === 0,
    problems,
    damaged,
    unchecked,
    durationMs: Math.round(performance.now() - started),
  });

  try {
    assertSqliteFile(path, 'DB');
  } catch (error) {
    if (error instanceof PlexliftError && error.code === 'DATABASE_CORRUPT') return report([error.message], [], []);
    throw error;
  }

  using scratch = createScratchDir(databaseBytes(path), { preferred: options.scratchDir, near: path });
  const copy = join(scratch.path, 'check.db');
  try {
    await backupDatabase(path, copy, {
      onProgress: (progress) => options.onProgress?.({ step: 'copy', copy: progress }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if (error instanceof PlexliftError && error.code === 'DATABASE_CORRUPT') return report([error.message], [], []);
    throw error;
  }

  options.onProgress?.({ step: 'check' });
  let namesByRootPage: Map<number, string>;
  let unchecked: IntegrityReport['unchecked'];
  try {
    // A connection keeps the schema it has parsed: strip on one, check on a fresh one.
    const setup = new Database(copy);
    try {
      namesByRootPage = readRootPages(setup);
      unchecked = stripPlexOnlyObjects(setup, readSchema(setup));
    } finally {
      setup.close();
    }
  } catch (error) {
    // A schema too damaged to even read is corruption, not a crash.
    if (isCorruptionError(error)) return report([(error as Error).message], [], []);
    throw error;
  }

  const db = new Database(copy);
  try {
    const problems = runIntegrityCheck(db, undefined, options.maxProblems ?? 100);
    if (problems.length === 0) return report([], [], unchecked);
    const damaged = new Set(namedObjects(problems, namesByRootPage));
    for (const table of readSchema(db).filter((o) => o.type === 'table' && !o.name.startsWith('sqlite_'))) {
      if (runIntegrityCheck(db, table.name, 1).length > 0) damaged.add(table.name);
    }
    return report(problems, [...damaged].sort(), unchecked);
  } catch (error) {
    if (isCorruptionError(error)) return report([(error as Error).message], [], unchecked);
    throw error;
  } finally {
    db.close();
  }
}

/**
 * Removes what stock SQLite cannot check from the scratch copy (plex-db.md §3.4.4): the
 * custom-collation indexes and the `_icu` triggers are dropped; the FTS and spellfix virtual
 * tables lose their schema rows, so their shadow tables are checked as plain B-trees. FTS
 * indexes are left out of the check on purpose: the `collating` ones need Plex's tokenizer, and
 * the legacy ones lost their triggers in modern PMS, so they lag their content by design.
 */
function stripPlexOnlyObjects(db: Database.Database, schema: SchemaObject[]): IntegrityReport['unchecked'] {
  const plexOnly = findPlexOnlyObjects(schema);
  const unchecked: IntegrityReport['unchecked'] = [];
  for (const object of plexOnly) {
    if (object.kind === 'custom-collation-index') {
      db.exec(`DROP INDEX ${quoteIdentifier(object.name)}`);
      unchecked.push({ name: object.name, reason: 'index with a Plex-only collation (needs Plex SQLite)' });
    } else if (object.kind === 'fts-trigger') {
      db.exec(`DROP TRIGGER ${quoteIdentifier(object.name)}`);
    }
  }
  const virtualTables = schema.filter((o) => isFtsTable(o) || plexOnly.some((p) => p.name === o.name && p.kind === 'spellfix'));
  if (virtualTables.length === 0) return unchecked;
  const version = db.pragma('schema_version', { simple: true }) as number;
  db.unsafeMode(true); // lifts SQLITE_DBCONFIG_DEFENSIVE, which forbids writable_schema
  db.pragma('writable_schema = ON');
  const remove = db.prepare(`DELETE FROM sqlite_schema WHERE type = 'table' AND name = ?`);
  for (const table of virtualTables) {
    remove.run(table.name);
    const kind = plexOnly.find((p) => p.name === table.name)?.kind;
    unchecked.push({
      name: table.name,
      reason:
        kind === 'collating-fts'
          ? 'full-text index with the Plex-only collating tokenizer (needs Plex SQLite); its shadow tables were checked'
          : kind === 'spellfix'
            ? 'spellfix1 virtual table (Plex-only extension); its shadow table was checked'
            : 'full-text index consistency (Plex rebuilds it); its shadow tables were checked',
    });
  }
  db.pragma(`schema_version = ${version + 1}`);
  db.pragma('writable_schema = OFF');
  db.unsafeMode(false);
  return unchecked;
}

function runIntegrityCheck(db: Database.Database, table: string | undefined, max: number): string[] {
  const pragma = table === undefined ? `integrity_check(${max})` : `integrity_check(${quoteIdentifier(table)})`;
  try {
    const rows = db.pragma(pragma) as { integrity_check: string }[];
    const messages = rows.map((row) => row.integrity_check);
    return messages.length === 1 && messages[0] === 'ok' ? [] : messages.slice(0, max);
  } catch (error) {
    if (isCorruptionError(error)) return [(error as Error).message];
    throw error;
  }
}

function readRootPages(db: Database.Database): Map<number, string> {
  const rows = db.prepare('SELECT name, rootpage FROM sqlite_schema WHERE rootpage > 0').all() as {
    name: string;
    rootpage: number;
  }[];
  return new Map(rows.map((row) => [row.rootpage, row.name]));
}

/** Objects named in integrity_check messages: `Tree 7 page …`, `… from index X`, `… in index X`. */
function namedObjects(problems: string[], namesByRootPage: Map<number, string>): string[] {
  const names: string[] = [];
  for (const problem of problems) {
    for (const match of problem.matchAll(/\bTree (\d+)\b/g)) {
      const name = namesByRootPage.get(Number(match[1]));
      if (name) names.push(name);
    }
    for (const match of problem.matchAll(/\b(?:from|in) index (\S+)/g)) names.push(match[1]!);
  }
  return names;
}

export function isCorruptionError(error: unknown): boolean {
  if (!(error instanceof Error) || !('code' in error) || typeof error.code !== 'string') return false;
  return error.code.startsWith('SQLITE_CORRUPT') || error.code.startsWith('SQLITE_NOTADB');
}
