import { mainDatabasePath, readDatabase, readLibraryStats, readSonicProgress, type LibraryStats, type SqliteDatabase } from '@plexlift/shared/plex-db';

/** Reads the home library: read-only, safe while home Plex runs. */
function readHomeDb<T>(pmsDir: string, read: (db: SqliteDatabase) => T): T {
  return readDatabase(mainDatabasePath(pmsDir), read);
}

/** Items someone has watched (or started), in any account: what a `scan` job would lose. */
export function watchedItems(pmsDir: string): number {
  return readHomeDb(pmsDir, (db) => db.prepare('SELECT count(*) FROM metadata_item_settings WHERE view_count > 0 OR view_offset > 0').pluck().get() as number);
}

/** The home library's counts, or undefined when its DB cannot be read. */
export function readHomeStats(pmsDir: string): LibraryStats | undefined {
  try {
    return readHomeDb(pmsDir, readLibraryStats);
  } catch {
    return undefined;
  }
}

/** Sonic coverage of the home library, for the report. */
export function sonicOf(pmsDir: string): { analyzed: number; total: number } | undefined {
  try {
    return readHomeDb(pmsDir, readSonicProgress).reduce((sum, s) => ({ analyzed: sum.analyzed + s.analyzed, total: sum.total + s.total }), {
      analyzed: 0,
      total: 0,
    });
  } catch {
    return undefined;
  }
}

/** Sonic coverage per music library (id, title), for the report of a run that may land; empty when unreadable. */
export function sonicSectionsOf(pmsDir: string): { id: number; title: string; analyzed: number; total: number }[] {
  try {
    return readHomeDb(pmsDir, (db) => {
      const titles = new Map((db.prepare('SELECT id, name FROM library_sections').all() as { id: number; name: string }[]).map((s) => [s.id, s.name]));
      return readSonicProgress(db).map((s) => ({
        id: s.sectionId,
        title: titles.get(s.sectionId) ?? `section ${s.sectionId}`,
        analyzed: s.analyzed,
        total: s.total,
      }));
    });
  } catch {
    return [];
  }
}

/** The home library's sections: id, name, Plex's type number and folders, from the home DB. */
export function homeSections(pmsDir: string): { id: number; name: string; type: number; locations: string[] }[] {
  return readHomeDb(pmsDir, (db) => {
    const sections = db.prepare('SELECT id, name, section_type AS type FROM library_sections ORDER BY id').all() as {
      id: number;
      name: string;
      type: number;
    }[];
    const locations = db.prepare('SELECT root_path FROM section_locations WHERE library_section_id = ?').pluck();
    return sections.map((s) => ({ ...s, locations: locations.all(s.id) as string[] }));
  });
}

/** A scan job recreates the home libraries: their names, types and folders, from the home DB. */
export function homeLibraries(pmsDir: string): { name: string; type: 'movie' | 'show' | 'artist' | 'photo'; locations: string[] }[] {
  const types: Record<number, 'movie' | 'show' | 'artist' | 'photo'> = { 1: 'movie', 2: 'show', 8: 'artist', 13: 'photo' };
  return homeSections(pmsDir)
    .filter((s) => types[s.type])
    .map((s) => ({ name: s.name, type: types[s.type]!, locations: s.locations }));
}
