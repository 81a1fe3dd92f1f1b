import type { PathMapping } from './path-mappings.js';
import type { SqliteDatabase } from './open-database.js';
import { isVirtualTable, quoteIdentifier, readSchema } from './plex-schema.js';

export interface PathLeftover {
  database: 'main' | 'blobs';
  table: string;
  column: string;
  rows: number;
  samples: string[];
}

/**
 * Finds values that still use an old prefix, in every TEXT column of every ordinary table:
 * a value equal to `from` or starting with `from/`, or a `file://` URL of it (raw or
 * percent-encoded), anywhere in the value (e.g. inside JSON `extra_data`). A fixed list of
 * columns can miss one a PMS version added (plex-db.md §11, Traps: scan all TEXT columns), so
 * none is assumed.
 *
 * A column that leads a BINARY index holds paths as whole values (media_parts.file,
 * metadata_items.guid): it is checked by index ranges on the value's start, which is exact
 * there and costs nothing; every other TEXT column is scanned, one pass per table.
 */
export function findPathLeftovers(
  db: SqliteDatabase,
  mappings: readonly PathMapping[],
  options: { database: 'main' | 'blobs'; skip?: readonly string[]; samples?: number },
): PathLeftover[] {
  const prefixes = mappings.flatMap(({ from }) => [...new Set([from, encodeURI(from)])]);
  const params: Record<string, string> = {};
  prefixes.forEach((prefix, k) => {
    params[`p${k}`] = prefix;
    params[`lo${k}`] = prefix + '/';
    params[`hi${k}`] = prefix + '0';
    params[`u${k}`] = `file://${prefix}/`;
    params[`ue${k}`] = `file://${prefix}`;
    params[`ulo${k}`] = `file://${prefix}/`;
    params[`uhi${k}`] = `file://${prefix}0`;
  });
  const terms = prefixes.map((_, k) => k);
  // Cheap guards first: most TEXT values neither start with '/' nor hold a file:// URL, and
  // SQLite stops evaluating an AND at its first false term.
  const scanned = (column: string) => {
    const c = quoteIdentifier(column);
    const anchored = terms.map((k) => `${c} = @p${k} OR (${c} >= @lo${k} AND ${c} < @hi${k})`).join(' OR ');
    const urls = terms.map((k) => `instr(${c}, @u${k}) > 0 OR ${c} = @ue${k}`).join(' OR ');
    return `(${c} >= '/' AND ${c} < '0' AND (${anchored})) OR (instr(${c}, 'file:/') > 0 AND (${urls}))`;
  };
  const ranged = (column: string) => {
    const c = quoteIdentifier(column);
    return terms.map((k) => `${c} = @p${k} OR (${c} >= @lo${k} AND ${c} < @hi${k}) OR ${c} = @ue${k} OR (${c} >= @ulo${k} AND ${c} < @uhi${k})`).join(' OR ');
  };

  const leftovers: PathLeftover[] = [];
  const tables = readSchema(db).filter((o) => o.type === 'table' && !o.name.startsWith('sqlite_') && !isVirtualTable(o));
  for (const table of tables) {
    const t = quoteIdentifier(table.name);
    const indexed = binaryIndexedColumns(db, table.name);
    const columns = (db.pragma(`table_info(${t})`) as { name: string; type: string }[])
      .filter((c) => isTextColumn(c.type) && !options.skip?.includes(`${table.name}.${c.name}`))
      .map((c) => ({ name: c.name, where: indexed.has(c.name) ? ranged(c.name) : scanned(c.name), isIndexed: indexed.has(c.name) }));
    const check = (where: string) => db.prepare(`SELECT 1 FROM ${t} WHERE ${where} LIMIT 1`).get(params) !== undefined;
    const scan = columns.filter((c) => !c.isIndexed);
    const suspects = [
      ...columns.filter((c) => c.isIndexed && check(c.where)),
      // One pass over the table for all scanned columns; told apart only when something was found.
      ...(scan.length > 0 && check(scan.map((c) => `(${c.where})`).join(' OR ')) ? scan : []),
    ];
    for (const column of suspects) {
      const { rows } = db.prepare(`SELECT count(*) AS rows FROM ${t} WHERE ${column.where}`).get(params) as { rows: number };
      if (rows === 0) continue;
      const samples = (
        db.prepare(`SELECT ${quoteIdentifier(column.name)} AS value FROM ${t} WHERE ${column.where} LIMIT ${options.samples ?? 3}`).all(params) as {
          value: unknown;
        }[]
      ).map((row) => String(row.value));
      leftovers.push({ database: options.database, table: table.name, column: column.name, rows, samples });
    }
  }
  return leftovers;
}

/** Columns that lead an index compared with BINARY, so a range on them is an index seek. */
function binaryIndexedColumns(db: SqliteDatabase, table: string): Set<string> {
  const columns = new Set<string>();
  const indexes = db.pragma(`index_list(${quoteIdentifier(table)})`) as { name: string; partial: number }[];
  for (const index of indexes) {
    if (index.partial) continue;
    try {
      const first = (db.pragma(`index_xinfo(${quoteIdentifier(index.name)})`) as { seqno: number; name: string | null; coll: string; key: number }[]).find(
        (c) => c.seqno === 0 && c.key === 1,
      );
      if (first?.name && first.coll === 'BINARY') columns.add(first.name);
    } catch {
      // an index with a collation stock SQLite lacks: scan that column instead
    }
  }
  return columns;
}

/** TEXT affinity by SQLite's rules (CHAR, CLOB, TEXT), plus untyped columns, which hold anything. */
function isTextColumn(declared: string): boolean {
  const type = declared.toUpperCase();
  return type === '' || type.includes('CHAR') || type.includes('CLOB') || type.includes('TEXT');
}
