import type Database from 'better-sqlite3';
import { PlexliftError } from '../errors.js';
import { findPlexDatabases } from './database-files.js';
import { closeDatabase, openDatabaseForWrite, openDatabaseReadOnly, type SqliteDatabase } from './open-database.js';
import { validatePathMappings, type PathMapping } from './path-mappings.js';
import { findPathLeftovers, type PathLeftover } from './path-leftovers.js';
import { quoteIdentifier, withFtsTriggersSetAside } from './plex-schema.js';
import { prefixRules, type PrefixRule } from './prefix-rules.js';

/**
 * The columns that hold absolute paths (plex-db.md §2.6). `url` and `guid` hold `file://` URLs
 * (sidecar subtitles, personal media). `directories.path` is relative and `metadata://` or
 * `media://` URLs are relative to the data dir, so neither moves.
 */
export const REMAPPED_COLUMNS = [
  { table: 'section_locations', column: 'root_path', form: 'path' },
  { table: 'media_parts', column: 'file', form: 'path' },
  { table: 'media_streams', column: 'url', form: 'file-url' },
  // Has `_icu` FTS triggers: rewritten with them set aside (guid is not a title column).
  { table: 'metadata_items', column: 'guid', form: 'file-url' },
] as const satisfies readonly { table: string; column: string; form: 'path' | 'file-url' }[];

/** Page cache of a remap connection (KiB): bounded, and enough for a 500k-item library. */
const REMAP_CACHE_KIB = 256 * 1024;

export interface ColumnRemap {
  table: string;
  column: string;
  /** Rows rewritten (or, in a dry run, that would be). */
  rows: number;
  /** Rows per mapping, in the order of `RemapReport.mappings`. */
  rowsByMapping: number[];
  samples: { before: string; after: string }[];
}

export interface RemapReport {
  mainDb: string;
  blobsDb: string | undefined;
  dryRun: boolean;
  /** The validated mappings, longest `from` first. */
  mappings: PathMapping[];
  columns: ColumnRemap[];
  rows: number;
  /**
   * Old prefixes found where no remap reaches (any TEXT column of both DBs). Before a real
   * remap they stop it; after it they must be empty.
   */
  leftovers: PathLeftover[];
  durationMs: number;
}

export interface RemapOptions {
  dryRun?: boolean;
  /** Before/after examples per column (default 3). */
  samples?: number;
  onProgress?: (progress: { step: string; done: number; total: number }) => void;
}

/**
 * Rewrites path prefixes in a Plex DB: anchored (`/Media/TV` never touches `/Media/TVShows`),
 * longest prefix first, in one pass, in one transaction, then verified: no old prefix may be
 * left in any TEXT column of the main and blobs DBs, or everything is rolled back. Refuses to
 * write while another process (Plex) holds either DB.
 */
export function remapPaths(mainDb: string, mappings: readonly PathMapping[], options: RemapOptions = {}): RemapReport {
  const started = performance.now();
  const validated = validatePathMappings(mappings);
  const files = findPlexDatabases(mainDb);
  const dryRun = options.dryRun ?? false;
  const sampleCount = options.samples ?? 3;
  const steps = REMAPPED_COLUMNS.length + 2;
  const progress = (step: string, done: number) => options.onProgress?.({ step, done, total: steps });

  const open = (path: string) => {
    const opened = dryRun ? openDatabaseReadOnly(path) : openDatabaseForWrite(path);
    // A big page cache keeps the rewritten pages of a large library in memory until commit
    // instead of spilling them to the WAL and reading them back for the verification.
    opened.pragma(`cache_size = -${REMAP_CACHE_KIB}`);
    return opened;
  };
  const blobs = files.blobs ? open(files.blobs) : undefined;
  const db = (() => {
    try {
      return open(files.main);
    } catch (error) {
      if (blobs) closeDatabase(blobs);
      throw error;
    }
  })();
  try {
    const rules = validated.map((mapping) => prefixRules(mapping));
    const remappedColumns = REMAPPED_COLUMNS.filter(({ table, column }) => hasColumn(db, table, column));

    progress('scan blobs DB', 0);
    const blobLeftovers = blobs ? findPathLeftovers(blobs, validated, { database: 'blobs' }) : [];

    const columns: ColumnRemap[] = [];
    const run = () => {
      remappedColumns.forEach((target, i) => {
        progress(`${target.table}.${target.column}`, i + 1);
        const columnRules = rules.map((forMapping) => forMapping[target.form]);
        const plan = planColumn(db, target.table, target.column, columnRules, sampleCount);
        if (!dryRun && plan.rows > 0) {
          const update = () => db.prepare(plan.updateSql).run(plan.params);
          if (target.table === 'metadata_items') withFtsTriggersSetAside(db, target.table, update);
          else update();
        }
        columns.push({ table: target.table, column: target.column, rows: plan.rows, rowsByMapping: plan.rowsByMapping, samples: plan.samples });
      });
      progress('verify', steps - 1);
      const skip = dryRun ? remappedColumns.map(({ table, column }) => `${table}.${column}`) : [];
      const leftovers = [...findPathLeftovers(db, validated, { database: 'main', skip }), ...blobLeftovers];
      if (!dryRun && leftovers.length > 0) throw new LeftoversFound(leftovers);
      return leftovers;
    };

    let leftovers: PathLeftover[];
    try {
      leftovers = dryRun ? run() : db.transaction(run).immediate();
    } catch (error) {
      if (error instanceof LeftoversFound) {
        const where = error.leftovers.map((l) => `${l.database}:${l.table}.${l.column} (${l.rows} rows, e.g. ${JSON.stringify(l.samples[0])})`);
        throw new PlexliftError(
          'SAFETY_STOP',
          `remap: old prefixes would remain in ${where.join(', ')}; nothing was changed. These columns are not rewritten by plexlift: check them before trying again`,
          { details: { leftovers: error.leftovers } },
        );
      }
      throw error;
    }
    progress('done', steps);
    return {
      mainDb: files.main,
      blobsDb: files.blobs,
      dryRun,
      mappings: validated,
      columns,
      rows: columns.reduce((n, c) => n + c.rows, 0),
      leftovers,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    closeDatabase(db);
    if (blobs) closeDatabase(blobs);
  }
}

class LeftoversFound extends Error {
  constructor(readonly leftovers: PathLeftover[]) {
    super('leftovers found');
  }
}

interface ColumnPlan {
  rows: number;
  rowsByMapping: number[];
  samples: { before: string; after: string }[];
  updateSql: string;
  params: Record<string, string | number>;
}

/**
 * Builds the one-pass UPDATE of a column. Each rule matches the value equal to its prefix or
 * starting with prefix + `/`, written as the byte range [prefix + '/', prefix + '0') so an index
 * on the column (media_parts.file, metadata_items.guid) serves it; rules are tried longest first.
 */
function planColumn(db: SqliteDatabase, table: string, column: string, rulesByMapping: PrefixRule[][], sampleCount: number): ColumnPlan {
  const c = quoteIdentifier(column);
  const params: Record<string, string | number> = {};
  const ordered = rulesByMapping.flatMap((rules, mapping) => rules.map((rule) => ({ rule, mapping }))).sort((a, b) => b.rule.length - a.rule.length);
  const predicates = ordered.map(({ rule }, k) => {
    params[`m${k}`] = rule.match;
    params[`lo${k}`] = rule.match + '/';
    params[`hi${k}`] = rule.match + '0';
    params[`r${k}`] = rule.replace;
    params[`n${k}`] = rule.length;
    return `(${c} = @m${k} OR (${c} >= @lo${k} AND ${c} < @hi${k}))`;
  });
  // A range on the prefix every rule shares cuts the candidates before any rule is tried.
  const common = commonPrefix(ordered.map(({ rule }) => rule.match));
  params['glo'] = common;
  params['ghi'] = successor(common);
  const any = `${c} >= @glo AND ${c} < @ghi AND (${predicates.join(' OR ')})`;
  const rewrite = `CASE ${predicates.map((p, k) => `WHEN ${p} THEN @r${k} || substr(${c}, @n${k} + 1)`).join(' ')} ELSE ${c} END`;
  const t = quoteIdentifier(table);

  // Which mapping each matching value falls to: the first (longest) rule, as in the UPDATE.
  const mappingOf = `CASE ${ordered.map(({ mapping }, k) => `WHEN ${predicates[k]} THEN ${mapping}`).join(' ')} END`;
  const groups = db.prepare(`SELECT ${mappingOf} AS mapping, count(*) AS n FROM ${t} WHERE ${any} GROUP BY 1`).all(params) as { mapping: number; n: number }[];
  const rowsByMapping = rulesByMapping.map((_, i) => groups.find((g) => g.mapping === i)?.n ?? 0);
  const samples = db.prepare(`SELECT ${c} AS before, ${rewrite} AS after FROM ${t} WHERE ${any} LIMIT ${Math.max(0, sampleCount)}`).all(params) as {
    before: string;
    after: string;
  }[];
  return {
    rows: rowsByMapping.reduce((n, rows) => n + rows, 0),
    rowsByMapping,
    samples,
    updateSql: `UPDATE ${t} SET ${c} = ${rewrite} WHERE ${any}`,
    params,
  };
}

/** The longest prefix all strings share, cut on a code point boundary. */
function commonPrefix(values: string[]): string {
  let prefix = [...(values[0] ?? '')];
  for (const value of values.slice(1)) {
    const chars = [...value];
    let i = 0;
    while (i < prefix.length && i < chars.length && prefix[i] === chars[i]) i++;
    prefix = prefix.slice(0, i);
  }
  return prefix.join('');
}

/** The smallest string greater than every string starting with `prefix` (UTF-8 keeps code point order). */
function successor(prefix: string): string {
  const chars = [...prefix];
  const last = chars.pop();
  if (last === undefined) return '\u{10FFFF}';
  return chars.join('') + String.fromCodePoint((last.codePointAt(0) ?? 0) + 1);
}

function hasColumn(db: Database.Database, table: string, column: string): boolean {
  const columns = db.pragma(`table_info(${quoteIdentifier(table)})`) as { name: string }[];
  return columns.some((c) => c.name === column);
}
