/**
 * Benchmarks of the Plex DB toolkit on a generated reference-size library (~500k items), each
 * beside the same work done by the stock `sqlite3` shell on the same file in the same run.
 * Ratios, not absolute times, are what count: these machines are noisy. Never fails on timing.
 *
 *   npm run bench                 # reference library (~500k items; built once, cached)
 *   npm run bench -- --size small # quick run
 */
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  checkIntegrity,
  closeDatabase,
  findPlexOnlyObjects,
  mergeUserState,
  openDatabaseReadOnly,
  readLibraryStats,
  readSchema,
  readSonicProgress,
  remapPaths,
  type PathMapping,
} from '@plexlift/shared/plex-db';
import type { LibrarySizeName } from '../test/utils/library-profile.js';
import { BENCH_CACHE, referenceLibrary } from './lib/reference-library.js';

const { values } = parseArgs({ options: { size: { type: 'string', default: 'reference' }, runs: { type: 'string', default: '3' } } });
const size = values.size as LibrarySizeName;
const runs = Number(values.runs);
const SHELL = '/usr/bin/sqlite3';
const root = BENCH_CACHE;

const library = prepareLibrary();
const MAPPINGS: PathMapping[] = [
  { from: '/Media/Movies', to: '/mnt/media/Films' },
  { from: '/Media/TV', to: '/mnt/media/TV Shows' },
  { from: '/Media/Music', to: '/mnt/media/Music' },
  { from: '/Media/Photo', to: '/mnt/media/Photos' },
  { from: '/Photo', to: '/mnt/media/Photos/Old' },
];

interface Row {
  name: string;
  oursMs: number;
  shellMs: number;
  target: string;
  note?: string;
}
const rows: Row[] = [];

// stats: the same grouped counts, run by the shell
{
  const sql = `SELECT library_section_id, metadata_type, count(*) - count(deleted_at), count(deleted_at) FROM metadata_items WHERE metadata_type IN (1,2,3,4,8,9,10,13) GROUP BY 1,2;
SELECT id, name, section_type FROM library_sections ORDER BY id;
SELECT mi.library_section_id, count(*) FROM media_parts mp JOIN media_items mi ON mi.id = mp.media_item_id WHERE mp.deleted_at IS NULL AND mp.file <> '' GROUP BY 1;`;
  rows.push({
    name: 'stats',
    oursMs: median(() => withDb((db) => readLibraryStats(db))),
    shellMs: median(() => shell(library, sql)),
    target: '≤ 1.5× and < 1 s',
  });
}

// Sonic progress: the same count, by the shell
{
  const sql = `SELECT s.id, count(m.id), sum(instr(m.extra_data, '"ms:musicAnalysisVersion"') > 0 OR instr(m.extra_data, 'ms%3AmusicAnalysisVersion=') > 0)
    FROM library_sections s LEFT JOIN metadata_items m ON m.library_section_id = s.id AND m.metadata_type = 10 AND m.deleted_at IS NULL
    WHERE s.section_type = 8 GROUP BY s.id;`;
  rows.push({
    name: 'sonic count',
    oursMs: median(() => withDb((db) => readSonicProgress(db))),
    shellMs: median(() => shell(library, sql)),
    target: '≤ 1.5× and < 1 s',
  });
}

// Full remap: ours (plan, one-pass UPDATEs incl. metadata_items.guid, verification of every TEXT
// column of both DBs) against the shell running anchored UPDATEs on the tables it can write.
{
  const shellSql = ['BEGIN;'];
  for (const [table, column, prefix] of [
    ['section_locations', 'root_path', ''],
    ['media_parts', 'file', ''],
    ['media_streams', 'url', 'file://'],
  ] as const) {
    for (const { from, to } of [...MAPPINGS].sort((a, b) => b.from.length - a.from.length)) {
      const old = quote(prefix + from);
      shellSql.push(
        `UPDATE ${table} SET ${column} = ${quote(prefix + to)} || substr(${column}, length(${old}) + 1) WHERE ${column} = ${old} OR substr(${column}, 1, length(${old}) + 1) = ${old} || '/';`,
      );
    }
  }
  shellSql.push('COMMIT;');
  const ours = median(() => {
    const copy = freshCopy('remap-ours');
    const started = performance.now();
    remapPaths(copy, MAPPINGS);
    return performance.now() - started;
  }, true);
  const theirs = median(() => {
    const copy = freshCopy('remap-shell');
    return shell(copy, shellSql.join('\n'));
  }, true);
  rows.push({
    name: 'full remap',
    oursMs: ours,
    shellMs: theirs,
    target: '≤ 1.5×',
    note: 'ours also rewrites metadata_items.guid and verifies every TEXT column of both DBs',
  });
}

// Integrity check: the shell cannot check a Plex DB as a whole (missing collations), so its
// baseline is every per-table check it can run.
{
  const db = openDatabaseReadOnly(library);
  const schema = readSchema(db);
  closeDatabase(db);
  const blocked = new Set(
    findPlexOnlyObjects(schema)
      .filter((o) => o.kind === 'custom-collation-index')
      .map((o) => o.tableName),
  );
  const checkable = schema.filter(
    (o) => o.type === 'table' && !/^\s*CREATE\s+VIRTUAL/i.test(o.sql ?? '') && !blocked.has(o.name) && !o.name.startsWith('sqlite_'),
  );
  const sql = checkable.map((t) => `PRAGMA integrity_check("${t.name}");`).join('\n');
  rows.push({
    name: 'integrity check',
    oursMs: await medianAsync(async () => {
      const started = performance.now();
      const report = await checkIntegrity(library);
      if (!report.ok) throw new Error(`bench library is corrupt: ${report.problems.join('; ')}`);
      return performance.now() - started;
    }),
    shellMs: median(() => shell(library, sql)),
    target: 'does more',
    note: `ours copies the DB (backup API) and checks every B-tree incl. metadata_items (${blocked.size} table(s) the shell cannot check: ${[...blocked].join(', ')}), the freelist and page accounting; the shell checks ${checkable.length} tables in place`,
  });
}

// The install's user-state merge (issue 18): 10k rows changed at home during a job (6k watch
// states, 3k plays, 1k stream choices), merged onto the new library while the home Plex is
// stopped: the downtime it adds. The shell's baseline is the naive copy a hand migration does
// (rows past the new library's highest id, appended by id), which matches nothing by meaning.
{
  const home = freshCopy('merge-home');
  const seed = new Database(home);
  seed.exec(`
    INSERT INTO metadata_item_settings (account_id, guid, view_count, last_viewed_at, created_at, updated_at)
      SELECT 1, guid, 1, 1780000000, 1780000000, 1780000000 FROM metadata_items WHERE metadata_type = 10 AND deleted_at IS NULL ORDER BY id LIMIT 6000;
    INSERT INTO metadata_item_views (account_id, guid, metadata_type, library_section_id, title, viewed_at, view_type)
      SELECT 1, guid, 10, library_section_id, title, 1780000000 + id, 0 FROM metadata_items WHERE metadata_type = 10 AND deleted_at IS NULL ORDER BY id LIMIT 3000 OFFSET 6000;
    INSERT INTO media_part_settings (account_id, media_part_id, selected_audio_stream_id, created_at, updated_at)
      SELECT 1, media_part_id, id, 1780000000, 1780000000 FROM media_streams WHERE stream_type_id = 2 ORDER BY id LIMIT 1000;`);
  seed.close();
  const appendSql = ['metadata_item_settings', 'metadata_item_views', 'media_part_settings']
    .map((table) => `INSERT INTO main.${table} SELECT * FROM h.${table} WHERE id > (SELECT coalesce(max(id), 0) FROM main.${table});`)
    .join('\n');
  let carried = 0;
  const ours = median(() => {
    const incoming = freshCopy('merge-incoming');
    const started = performance.now();
    const merged = mergeUserState({ base: library, home, incoming });
    const elapsed = performance.now() - started;
    carried = merged.tables.reduce((sum, table) => sum + table.carried, 0);
    return elapsed;
  }, true);
  const theirs = median(() => shell(freshCopy('merge-shell'), `ATTACH ${quote(home)} AS h;\nBEGIN;\n${appendSql}\nCOMMIT;`), true);
  rows.push({
    name: 'user-state merge',
    oursMs: ours,
    shellMs: theirs,
    target: 'the downtime it adds',
    note: `${carried.toLocaleString('en-US')} rows carried by meaning (guid, file, stream) with the library's tables compared for the report; the home Plex is stopped for this long on top of the backup and the copy in; the shell appends rows by id`,
  });
}

report(rows);

function prepareLibrary(): string {
  const dir = referenceLibrary(size);
  const path = join(dir, 'com.plexapp.plugins.library.db');
  const stats = withDb((db) => readLibraryStats(db)).value;
  const items = stats.sections.reduce((n, s) => n + Object.values(s.counts).reduce((a, b) => a + b, 0), 0);
  console.log(`library: ${items.toLocaleString('en-US')} items in ${stats.sections.length} sections (${path})\n`);
  return path;

  function withDb<T>(read: (db: ReturnType<typeof openDatabaseReadOnly>) => T) {
    const db = openDatabaseReadOnly(join(dir, 'com.plexapp.plugins.library.db'));
    try {
      return { value: read(db) };
    } finally {
      closeDatabase(db);
    }
  }
}

function withDb(read: (db: ReturnType<typeof openDatabaseReadOnly>) => unknown): number {
  const started = performance.now();
  const db = openDatabaseReadOnly(library);
  try {
    read(db);
  } finally {
    closeDatabase(db);
  }
  return performance.now() - started;
}

function shell(path: string, sql: string): number {
  const started = performance.now();
  const result = spawnSync(SHELL, [path], { input: sql, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const elapsed = performance.now() - started;
  if (result.status !== 0 || result.stderr) throw new Error(`sqlite3 failed: ${result.stderr}`);
  return elapsed;
}

function freshCopy(name: string): string {
  const dir = join(root, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const file of ['com.plexapp.plugins.library.db', 'com.plexapp.plugins.library.blobs.db']) {
    copyFileSync(join(library, '..', file), join(dir, file));
  }
  return join(dir, 'com.plexapp.plugins.library.db');
}

function median(measure: () => number, fresh = false): number {
  if (!fresh) measure(); // warm the page cache
  const times = Array.from({ length: runs }, measure).sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? 0;
}

async function medianAsync(measure: () => Promise<number>): Promise<number> {
  await measure();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await measure());
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? 0;
}

function quote(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function report(results: Row[]): void {
  const lines = results.map((r) => {
    const ratio = r.oursMs / r.shellMs;
    const within = r.target.startsWith('≤ 1.5×') ? (ratio <= 1.5 ? 'within target' : 'OVER target') : 'n/a';
    return [r.name, `${r.oursMs.toFixed(0)} ms`, `${r.shellMs.toFixed(0)} ms`, `${ratio.toFixed(2)}×`, r.target, within];
  });
  const header = ['operation', 'plexlift', 'sqlite3 shell', 'ratio', 'target', 'verdict'];
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => [...(l[i] ?? '')].length)));
  const format = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  console.log(format(header));
  for (const line of lines) console.log(format(line));
  console.log('');
  for (const r of results) if (r.note) console.log(`${r.name}: ${r.note}`);
  console.log(`\nmedian of ${runs} runs each; shell: ${SHELL} (${spawnSync(SHELL, ['--version'], { encoding: 'utf8' }).stdout.split(' ')[0]})`);
}
