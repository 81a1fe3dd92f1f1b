import { lstatSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PlexliftError } from '@plexlift/shared';
import { BLOBS_DB_NAME, checkIntegrity, DATABASES_DIR, MAIN_DB_NAME, readDatabase, readLibraryStats, type LibraryStats } from '@plexlift/shared/plex-db';
import { DATABASE_FILES } from './backups.js';
import { inspectHomePath, wrongHomeEntry, type HomeEntryKind } from './home-paths.js';

/**
 * The tables that make a SQLite file a Plex library DB (what `readLibraryStats` and Plex itself
 * read first), and the one that makes the blobs DB. A compromised VM can send any SQLite file.
 */
const LIBRARY_TABLES = { [MAIN_DB_NAME]: ['library_sections', 'metadata_items', 'media_items', 'media_parts'], [BLOBS_DB_NAME]: ['blobs'] };

/** The top-level folders of a library archive: folders at home, so folders in the archive. */
const FOLDERS = ['Plug-in Support', DATABASES_DIR, 'Metadata', 'Media'];

function refuse(message: string, path?: string): PlexliftError {
  return new PlexliftError('SAFETY_STOP', `${message}; nothing was installed`, path ? { details: { path } } : {});
}

/** Every entry under `root`, relative to it, with its kind (nothing followed). */
function entriesUnder(root: string): Map<string, HomeEntryKind> {
  const entries = new Map<string, HomeEntryKind>();
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    const kind: HomeEntryKind = entry.isDirectory() ? 'folder' : entry.isFile() ? 'file' : entry.isSymbolicLink() ? 'link' : 'other';
    entries.set(relative(root, join(entry.parentPath, entry.name)), kind);
  }
  return entries;
}

/**
 * Checks the staged archive against the library layout and against home, before home is
 * touched: both DBs regular files that are Plex libraries and pass the FTS-aware integrity
 * check, the bundle roots folders, and no entry whose type differs from what home has at that
 * path (issue 16, item 24: a folder named like the blobs DB once replaced it, and a file named
 * like a `Metadata/` section folder stopped Plex for a backup that could not be made). Home
 * paths are walked without following links; a link where the archive puts something is refused.
 */
export async function checkStagedLibrary(stagingDir: string, pmsDir: string): Promise<LibraryStats> {
  const staged = entriesUnder(stagingDir);
  for (const name of [MAIN_DB_NAME, BLOBS_DB_NAME]) {
    const rel = join(DATABASES_DIR, name);
    const kind = staged.get(rel);
    if (kind !== 'file') throw refuse(`the archive ${kind ? `holds ${rel} as something other than a file (${kind})` : `holds no ${rel}`}`, rel);
  }
  for (const rel of FOLDERS) {
    const kind = staged.get(rel);
    if (kind && kind !== 'folder') throw refuse(`the archive holds ${rel} as a ${kind}, where the library has a folder`, rel);
  }
  for (const [rel, kind] of staged) {
    const home = inspectHomePath(pmsDir, rel);
    if (home === 'missing') continue;
    if (home === 'link' || home === 'other') throw wrongHomeEntry(rel, home, kind === 'folder' ? 'folder' : 'file', ' by the archive');
    if (home !== kind) throw refuse(`the archive holds a ${kind} at "${rel}" where home has a ${home}`, rel);
  }
  // The old DBs' files are removed and backed up: never through a link, never a folder.
  for (const rel of DATABASE_FILES) {
    const home = inspectHomePath(pmsDir, rel);
    if (home !== 'missing' && home !== 'file') throw wrongHomeEntry(rel, home, 'file');
  }
  for (const [name, tables] of Object.entries(LIBRARY_TABLES)) checkIsLibrary(join(stagingDir, DATABASES_DIR, name), name, tables);

  const main = join(stagingDir, DATABASES_DIR, MAIN_DB_NAME);
  const report = await checkIntegrity(main);
  if (!report.ok) throw refuse(`the archive's library DB fails its integrity check (${report.problems[0] ?? ''})`);
  return readDatabase(main, readLibraryStats);
}

/** A SQLite file without Plex's tables is not a Plex library, whatever its name. */
function checkIsLibrary(path: string, name: string, tables: string[]): void {
  if (!lstatSync(path).isFile()) throw refuse(`the archive's ${name} is not a regular file`);
  let present: Set<string>;
  try {
    present = readDatabase(
      path,
      (db) => new Set((db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table'`).all() as { name: string }[]).map((row) => row.name)),
    );
  } catch (error) {
    throw refuse(`the archive's ${name} is not a readable SQLite database (${(error as Error).message})`);
  }
  const missing = tables.filter((table) => !present.has(table));
  if (missing.length > 0) throw refuse(`the archive's ${name} is a SQLite database but not a Plex library (no ${missing.join(', ')} table)`);
}
