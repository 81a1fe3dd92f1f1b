import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupDatabase, closeDatabase, findPlexDatabases, openDatabaseForWrite, openDatabaseReadOnly, readLibraryStats } from '@plexlift/shared/plex-db';
import { generateLibrary } from '../utils/library-generator.js';
import { holdDatabaseLikePlex } from '../utils/plex-holder.js';
import { countRows } from '../utils/sqlite-files.js';
import { createTempDir } from '../utils/temp-dir.js';

const betterSqlite3 = createRequire(import.meta.url).resolve('better-sqlite3');

/** A process that commits rows in WAL mode and is killed before it can checkpoint. */
function writeThenCrash(path: string, rows: number): void {
  const script = `
    const Database = require(${JSON.stringify(betterSqlite3)});
    const db = new Database(process.argv[1]);
    db.pragma('wal_autocheckpoint = 0');
    const insert = db.prepare("INSERT INTO library_sections (name, section_type) VALUES (?, 1)");
    for (let i = 0; i < ${rows}; i++) insert.run('crash ' + i);
    process.kill(process.pid, 'SIGKILL');
  `;
  spawnSync(process.execPath, ['-e', script, path]);
}

describe('openDatabaseForWrite', () => {
  it('folds a WAL left by a crashed writer into the main file, so the file alone is complete', () => {
    const dir = createTempDir();
    const library = generateLibrary({ dir, size: 'tiny' });
    writeThenCrash(library.mainDb, 50);
    expect(statSync(`${library.mainDb}-wal`).size).toBeGreaterThan(0);

    closeDatabase(openDatabaseForWrite(library.mainDb));

    expect(existsSync(`${library.mainDb}-wal`) ? statSync(`${library.mainDb}-wal`).size : 0).toBe(0);
    const alone = join(dir, 'alone.db');
    copyFileSync(library.mainDb, alone); // the main file without its sidecars
    expect(countRows(alone, 'library_sections')).toBe(4 + 50);
  });

  it('names the process holding the DB and refuses', async () => {
    const library = generateLibrary({ dir: createTempDir(), size: 'tiny' });
    const plex = await holdDatabaseLikePlex(library.mainDb);
    expect(() => openDatabaseForWrite(library.mainDb)).toThrow(
      expect.objectContaining({ code: 'DATABASE_IN_USE', message: expect.stringMatching(new RegExp(`pid ${plex.pid}.*stop Plex Media Server`)) }),
    );
  });

  it('holds its lock so Plex cannot open the DB mid-write', () => {
    const library = generateLibrary({ dir: createTempDir(), size: 'tiny' });
    const db = openDatabaseForWrite(library.mainDb);
    try {
      const other = new Database(library.mainDb, { timeout: 0 });
      expect(() => other.prepare('SELECT count(*) FROM library_sections').get()).toThrow(/locked/);
      other.close();
    } finally {
      closeDatabase(db);
    }
  });
});

describe('openDatabaseReadOnly', () => {
  it('reads a live DB while Plex holds it', async () => {
    const library = generateLibrary({ dir: createTempDir(), size: 'tiny' });
    await holdDatabaseLikePlex(library.mainDb);
    const db = openDatabaseReadOnly(library.mainDb);
    try {
      expect(readLibraryStats(db)).toEqual(library.expected);
    } finally {
      closeDatabase(db);
    }
  });

  it('names the file in every error a user can cause', () => {
    const dir = createTempDir();
    mkdirSync(join(dir, 'folder.db'));
    writeFileSync(join(dir, 'text.db'), 'not a database at all, just text');
    writeFileSync(join(dir, 'empty.db'), '');
    expect(() => openDatabaseReadOnly(join(dir, 'missing.db'))).toThrow(/DB: .*missing\.db does not exist/);
    expect(() => openDatabaseReadOnly(join(dir, 'folder.db'))).toThrow(/folder\.db is not a file/);
    expect(() => openDatabaseReadOnly(join(dir, 'text.db'))).toThrow(/text\.db is not a SQLite database/);
    expect(() => openDatabaseReadOnly(join(dir, 'empty.db'))).toThrow(/empty\.db is empty/);
  });
});

describe('findPlexDatabases', () => {
  it('finds the blobs DB beside the main DB, and the blobs backup of the same date', () => {
    const dir = createTempDir();
    const library = generateLibrary({ dir, size: 'tiny' });
    expect(findPlexDatabases(library.mainDb)).toEqual({ main: library.mainDb, blobs: library.blobsDb });
    const dated = `${library.mainDb}-2026-11-01`;
    copyFileSync(library.mainDb, dated);
    expect(findPlexDatabases(dated).blobs).toBeUndefined();
    copyFileSync(library.blobsDb, `${library.blobsDb}-2026-11-01`);
    expect(findPlexDatabases(dated).blobs).toBe(`${library.blobsDb}-2026-11-01`);
  });
});

describe('backupDatabase', () => {
  it('takes a consistent snapshot while Plex holds the DB, with progress, and replaces stale sidecars', async () => {
    const dir = createTempDir();
    const library = generateLibrary({ dir, size: 'small' });
    await holdDatabaseLikePlex(library.mainDb);
    const dest = join(dir, 'snapshot.db');
    writeFileSync(`${dest}-wal`, Buffer.alloc(4096, 1)); // a stale WAL must not be replayed
    const steps: number[] = [];

    await backupDatabase(library.mainDb, dest, { pagesPerStep: 64, onProgress: (p) => steps.push(p.copiedPages) });

    expect(steps.length).toBeGreaterThan(2);
    expect(steps.at(-1)).toBeGreaterThan(steps[0]!);
    const copy = openDatabaseReadOnly(dest);
    try {
      expect(readLibraryStats(copy)).toEqual(library.expected);
    } finally {
      closeDatabase(copy);
    }
  });

  it('stops when aborted and leaves no partial copy', async () => {
    const dir = createTempDir();
    const library = generateLibrary({ dir, size: 'small' });
    const controller = new AbortController();
    const dest = join(dir, 'snapshot.db');
    const copying = backupDatabase(library.mainDb, dest, {
      pagesPerStep: 16,
      signal: controller.signal,
      onProgress: () => controller.abort(new Error('stopped by the user')),
    });
    await expect(copying).rejects.toThrow('stopped by the user');
    expect(existsSync(dest)).toBe(false);
  });
});
