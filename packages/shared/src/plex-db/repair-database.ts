import Database from 'better-sqlite3';
import { copyFileSync, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { PlexliftError } from '../errors.js';
import { assertSqliteFile, databaseFileSet } from './database-files.js';
import { checkIntegrity, isCorruptionError, type IntegrityReport } from './integrity-check.js';
import { quoteIdentifier, readSchema, type SchemaObject } from './plex-schema.js';
import { findRecoveryEngine, recoverDatabase, type RecoveryEngine, type RecoveryEngineKind } from './recovery-engine.js';
import { createScratchDir, databaseBytes } from './scratch-space.js';

export interface TableRecovery {
  name: string;
  /** Rows the damaged DB still shows (the best of a table scan and of each index); null if unreadable. */
  before: number | null;
  after: number;
  /** before − after when both are known (never negative). */
  lost: number;
}

export interface RepairReport {
  source: string;
  out: string;
  engine: Pick<RecoveryEngine, 'kind' | 'command' | 'source' | 'version'>;
  tables: TableRecovery[];
  /** Rows `.recover` found but could not place (its `lost_and_found` table). */
  lostAndFound: number;
  /** Rows known lost, summed over the tables. */
  rowsLost: number;
  /** Tables whose rows could not be counted in the damaged DB, so losses there are unknown. */
  uncounted: string[];
  /** Schema objects of the source missing from the result, with their SQL to re-create them. */
  schemaLost: { type: string; name: string; sql: string | null }[];
  /** What the engine could not replay (e.g. "no such collation sequence: icu_root"). */
  engineMessages: string[];
  /** Integrity check of the result. */
  integrity: IntegrityReport;
  /** Every row counted in the damaged DB is back, and `.recover` left nothing unplaced. */
  dataComplete: boolean;
  /** Every table, index, trigger and view of the source exists in the result. */
  schemaComplete: boolean;
}

export interface RepairOptions {
  /** Path of the new DB; must not exist. */
  out: string;
  engine?: RecoveryEngine | RecoveryEngineKind | undefined;
  sqlite3Path?: string | undefined;
  plexSqlitePath?: string | undefined;
  scratchDir?: string | undefined;
  onProgress?: (progress: { step: 'copy' | 'count' | 'recover' | 'verify'; sqlBytes?: number }) => void;
  signal?: AbortSignal;
}

/**
 * Recovers a damaged Plex DB into a new file, never in place: copy the file set to a scratch
 * folder, count what the damaged DB still shows, `.recover` it into `out`, then count again and
 * check the result. The report says what was lost. The result is only moved to `out` once it
 * passes the integrity check.
 */
export async function repairDatabase(source: string, options: RepairOptions): Promise<RepairReport> {
  assertSqliteFile(source, 'DB');
  const out = resolve(options.out);
  validateOut(resolve(source), out);
  const engine =
    typeof options.engine === 'object'
      ? options.engine
      : await findRecoveryEngine({ kind: options.engine, sqlite3Path: options.sqlite3Path, plexSqlitePath: options.plexSqlitePath });

  // Work on a copy of the whole file set, so nothing the engine does can touch the original.
  options.onProgress?.({ step: 'copy' });
  using scratch = createScratchDir(databaseBytes(source) * 2, { preferred: options.scratchDir, near: source });
  const work = join(scratch.path, basename(source));
  for (const [from, to] of zip(databaseFileSet(source), databaseFileSet(work))) {
    if (existsSync(from)) copyFileSync(from, to);
  }

  options.onProgress?.({ step: 'count' });
  const { counts: before, schema: sourceSchema } = countSource(work);

  options.onProgress?.({ step: 'recover', sqlBytes: 0 });
  const partial = `${out}.partial`;
  for (const file of databaseFileSet(partial)) rmSync(file, { force: true });
  const outcome = await recoverDatabase(engine, work, partial, {
    onBytes: (sqlBytes) => options.onProgress?.({ step: 'recover', sqlBytes }),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (outcome.recoverError || !existsSync(partial)) {
    for (const file of databaseFileSet(partial)) rmSync(file, { force: true });
    throw new PlexliftError('REPAIR_FAILED', `DB: ${engine.kind} could not recover ${source}: ${outcome.recoverError ?? 'no output database'}`, {
      details: { engine: engine.command, messages: outcome.importMessages },
    });
  }

  options.onProgress?.({ step: 'verify' });
  const result = new Database(partial);
  let afterCounts: Map<string, number>;
  let resultSchema: SchemaObject[];
  try {
    // Plex runs its DB in WAL mode; the shell's import leaves a rollback journal DB.
    result.pragma('journal_mode = WAL');
    resultSchema = readSchema(result);
    afterCounts = new Map(resultSchema.filter((o) => o.type === 'table' && isCountable(o)).map((o) => [o.name, countRows(result, o.name, undefined) ?? 0]));
    result.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    result.close();
  }
  const integrity = await checkIntegrity(partial, { scratchDir: options.scratchDir });
  if (!integrity.ok) {
    for (const file of databaseFileSet(partial)) rmSync(file, { force: true });
    throw new PlexliftError(
      'REPAIR_FAILED',
      `DB: the database recovered from ${source} fails its own integrity check (${integrity.problems[0] ?? 'unknown problem'}); nothing was written to ${out}`,
      { details: { problems: integrity.problems } },
    );
  }

  const tables: TableRecovery[] = [];
  for (const [name, countBefore] of before) {
    const after = afterCounts.get(name) ?? 0;
    tables.push({ name, before: countBefore, after, lost: countBefore === null ? 0 : Math.max(0, countBefore - after) });
  }
  const lostAndFound = [...afterCounts].filter(([name]) => /^lost_and_found(_\d+)?$/.test(name)).reduce((n, [, rows]) => n + rows, 0);
  const resultNames = new Set(resultSchema.map((o) => o.name));
  const schemaLost = sourceSchema
    .filter((o) => !resultNames.has(o.name) && !o.name.startsWith('sqlite_autoindex_'))
    .map((o) => ({ type: o.type, name: o.name, sql: o.sql }));
  const rowsLost = tables.reduce((n, t) => n + t.lost, 0);
  const uncounted = tables.filter((t) => t.before === null).map((t) => t.name);

  renameSync(partial, out);
  for (const suffix of ['-wal', '-shm']) rmSync(partial + suffix, { force: true });
  return {
    source,
    out,
    engine: { kind: engine.kind, command: engine.command, source: engine.source, version: engine.version },
    tables,
    lostAndFound,
    rowsLost,
    uncounted,
    schemaLost,
    engineMessages: outcome.importMessages,
    integrity: { ...integrity, path: out },
    dataComplete: rowsLost === 0 && uncounted.length === 0 && lostAndFound === 0,
    schemaComplete: schemaLost.length === 0,
  };
}

function validateOut(source: string, out: string): void {
  if (out === source || databaseFileSet(source).includes(out)) {
    throw new PlexliftError('PATH_INVALID', `--out: ${out} is the database being repaired; repair never writes in place`, {
      details: { field: 'out', path: out },
    });
  }
  if (existsSync(out)) {
    throw new PlexliftError('PATH_INVALID', `--out: ${out} already exists; choose a new file name`, {
      details: { field: 'out', path: out },
    });
  }
  const dir = dirname(out);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new PlexliftError('PATH_INVALID', `--out: folder ${dir} does not exist`, { details: { field: 'out', path: out } });
  }
}

/** Ordinary tables whose rows are data (virtual tables are re-created, not copied). */
function isCountable(object: SchemaObject): boolean {
  return object.type === 'table' && !/^\s*CREATE\s+VIRTUAL/i.test(object.sql ?? '') && object.name !== 'sqlite_sequence';
}

function countSource(path: string): { counts: Map<string, number | null>; schema: SchemaObject[] } {
  const db = new Database(path, { readonly: true });
  try {
    const schema = readSchema(db);
    const counts = new Map<string, number | null>();
    for (const table of schema.filter(isCountable)) {
      // A destroyed table page hides rows from a table scan while its indexes still list them:
      // the highest count seen is the best lower bound of what the table held.
      let best = countRows(db, table.name, undefined);
      for (const index of schema.filter((o) => o.type === 'index' && o.tableName === table.name)) {
        const viaIndex = countRows(db, table.name, index.name);
        if (viaIndex !== null && (best === null || viaIndex > best)) best = viaIndex;
      }
      counts.set(table.name, best);
    }
    return { counts, schema };
  } catch (error) {
    if (isCorruptionError(error)) {
      throw new PlexliftError('REPAIR_FAILED', `DB: the schema of ${path} is unreadable: ${(error as Error).message}`, {
        cause: error,
      });
    }
    throw error;
  } finally {
    db.close();
  }
}

/** Rows of `table` by a table scan, or through `index`; null when that path is unreadable. */
function countRows(db: Database.Database, table: string, index: string | undefined): number | null {
  const how = index === undefined ? 'NOT INDEXED' : `INDEXED BY ${quoteIdentifier(index)}`;
  try {
    const row = db.prepare(`SELECT count(*) AS n FROM ${quoteIdentifier(table)} ${how}`).get() as { n: number };
    return row.n;
  } catch {
    // damaged, a custom collation, or an index the planner cannot use for this query
    return null;
  }
}

function zip<A, B>(a: A[], b: B[]): [A, B][] {
  return a.map((value, i) => [value, b[i] as B]);
}
