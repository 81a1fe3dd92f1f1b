import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { closeDatabase, openDatabaseReadOnly, readLibraryStats, readSonicProgress, type LibraryStats, type SonicProgress } from '@plexlift/shared/plex-db';

/** sha256 of a file and of its WAL sidecars: "unchanged" means all three are. */
export function fingerprint(path: string): string {
  const hash = createHash('sha256');
  for (const file of [path, `${path}-wal`]) {
    hash.update(file.endsWith('-wal') ? '|wal|' : '|db|');
    if (existsSync(file)) hash.update(readFileSync(file));
  }
  return hash.digest('hex');
}

export interface DamagedPage {
  pageno: number;
  /** Cells (rows, for a table leaf) the page held. */
  cells: number;
}

/**
 * Overwrites one B-tree page of `object` (a table or index) with garbage, the way a bad disk
 * or a torn copy does. `nth` picks among its leaf pages (interior pages with `kind`).
 */
export function destroyPage(path: string, object: string, options: { kind?: 'leaf' | 'internal'; nth?: number } = {}): DamagedPage {
  const db = new Database(path, { readonly: true });
  let page: { pageno: number; ncell: number } | undefined;
  let pageSize: number;
  try {
    const pages = db.prepare(`SELECT pageno, ncell FROM dbstat WHERE name = ? AND pagetype = ? ORDER BY pageno`).all(object, options.kind ?? 'leaf') as {
      pageno: number;
      ncell: number;
    }[];
    page = pages[Math.min(options.nth ?? Math.floor(pages.length / 2), pages.length - 1)];
    pageSize = db.pragma('page_size', { simple: true }) as number;
  } finally {
    db.close();
  }
  if (!page) throw new Error(`no ${options.kind ?? 'leaf'} page of ${object} in ${path}`);
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, (page.pageno - 1) * pageSize);
  } finally {
    closeSync(fd);
  }
  return { pageno: page.pageno, cells: page.ncell };
}

/** Runs Debian's stock `sqlite3` shell on a file; what users' scripts (and the predecessor) ran. */
export function runStockSqlite3(path: string, sql: string): { status: number; stdout: string; stderr: string } {
  const result = spawnSync('/usr/bin/sqlite3', [path, sql], { encoding: 'utf8' });
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

export function countRows(path: string, table: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM "${table}"`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** Library stats and Sonic progress of a DB, read as `plexlift db stats` does. */
export function readStatsOf(path: string): { library: LibraryStats; sonic: SonicProgress[] } {
  const db = openDatabaseReadOnly(path);
  try {
    return { library: readLibraryStats(db), sonic: readSonicProgress(db) };
  } finally {
    closeDatabase(db);
  }
}
