import Database from 'better-sqlite3';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { LibraryWriter } from '../utils/library-writer.js';
import { restorePlexObjects, setAsidePlexObjects, type SetAsideObjects } from '../utils/plex-only-objects.js';
import type { DataDirPaths } from './data-dir.js';

export interface SectionRow {
  id: number;
  name: string;
  sectionType: number;
  agent: string;
  scanner: string;
  language: string;
  uuid: string;
  createdAt: number;
  updatedAt: number;
  scannedAt: number | null;
  contentChangedAt: number;
  locations: { id: number; path: string }[];
}

/**
 * The library DB as the double holds it while it runs. The double is "Plex": it has Plex's
 * collations, so it keeps the `_icu` triggers and the `icu_root` index aside while it runs
 * and puts them back when it stops, and every DB that leaves it trips stock SQLite like a real
 * one. What was set aside is written to the data dir, so a run that was killed (no chance to
 * put them back) is completed by the next clean stop.
 */
export class LibraryDb {
  readonly db: Database.Database;
  readonly write: LibraryWriter;
  private readonly aside: SetAsideObjects;

  constructor(private readonly paths: DataDirPaths) {
    this.db = new Database(paths.mainDb);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    if (existsSync(paths.simState)) {
      this.aside = (JSON.parse(readFileSync(paths.simState, 'utf8')) as { aside: SetAsideObjects }).aside;
    } else {
      this.aside = this.db.transaction(() => setAsidePlexObjects(this.db))();
      writeFileSync(paths.simState, JSON.stringify({ aside: this.aside }));
    }
    this.write = new LibraryWriter(this.db);
  }

  /** A clean stop: objects back, WAL folded in, sidecars removed. */
  close(): void {
    if (!this.db.open) return;
    restorePlexObjects(this.db, this.aside);
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.close();
    rmSync(this.paths.simState, { force: true });
  }

  sections(): SectionRow[] {
    const rows = this.db
      .prepare(
        `SELECT id, name, section_type AS sectionType, agent, scanner, language, uuid, created_at AS createdAt,
                updated_at AS updatedAt, scanned_at AS scannedAt, content_changed_at AS contentChangedAt
           FROM library_sections ORDER BY id`,
      )
      .all() as Omit<SectionRow, 'locations'>[];
    const locations = this.db.prepare(`SELECT id, library_section_id AS section, root_path AS path FROM section_locations ORDER BY id`).all() as {
      id: number;
      section: number;
      path: string;
    }[];
    return rows.map((row) => ({ ...row, locations: locations.filter((l) => l.section === row.id).map(({ id, path }) => ({ id, path })) }));
  }

  section(id: number): SectionRow | undefined {
    return this.sections().find((s) => s.id === id);
  }

  /** Items of a type in a section, not marked deleted (`/all` with `X-Plex-Container-Size=0`). */
  countItems(section: number, type: number): number {
    const row = this.db
      .prepare(`SELECT count(*) AS n FROM metadata_items WHERE library_section_id = ? AND deleted_at IS NULL AND metadata_type = ?`)
      .get(section, type) as { n: number };
    return row.n;
  }
}
