import { METADATA_TYPE, sectionTypeName, type SectionTypeName } from './plex-codes.js';
import type { SqliteDatabase } from './open-database.js';

/** What `plexlift db stats` counts per section: items not marked deleted, by kind. */
export const COUNTED_KINDS = ['movie', 'show', 'season', 'episode', 'artist', 'album', 'track', 'photo'] as const;
export type CountedKind = (typeof COUNTED_KINDS)[number];
export type KindCounts = Record<CountedKind, number>;

export interface SectionStats {
  id: number;
  title: string;
  type: SectionTypeName | 'unknown';
  /** Items of each kind not marked deleted (extras and photo albums are not counted). */
  counts: KindCounts;
  /** Items of the counted kinds marked deleted (`deleted_at` set), waiting for Empty Trash. */
  deleted: number;
  /** Media parts with a file, not marked deleted. */
  parts: number;
}

export interface LibraryStats {
  sections: SectionStats[];
}

export function emptyCounts(): KindCounts {
  return { movie: 0, show: 0, season: 0, episode: 0, artist: 0, album: 0, track: 0, photo: 0 };
}

const KIND_BY_TYPE = new Map<number, CountedKind>(COUNTED_KINDS.map((kind) => [METADATA_TYPE[kind], kind]));
const COUNTED_TYPES = [...KIND_BY_TYPE.keys()].join(',');

/**
 * Counts a library, per section. Read-only and cheap: one grouped pass over `metadata_items`
 * and one over the parts. Works on a live DB (WAL readers never block Plex).
 */
export function readLibraryStats(db: SqliteDatabase): LibraryStats {
  const sections = db.prepare('SELECT id, name, section_type AS sectionType FROM library_sections ORDER BY id').all() as {
    id: number;
    name: string | null;
    sectionType: number;
  }[];
  const byId = new Map<number, SectionStats>();
  for (const section of sections) {
    byId.set(section.id, {
      id: section.id,
      title: section.name ?? '',
      type: sectionTypeName(section.sectionType),
      counts: emptyCounts(),
      deleted: 0,
      parts: 0,
    });
  }

  const items = db
    .prepare(
      `SELECT library_section_id AS sectionId, metadata_type AS type,
              count(*) - count(deleted_at) AS live, count(deleted_at) AS deleted
         FROM metadata_items
        WHERE metadata_type IN (${COUNTED_TYPES})
        GROUP BY library_section_id, metadata_type`,
    )
    .all() as { sectionId: number | null; type: number; live: number; deleted: number }[];
  for (const row of items) {
    const section = row.sectionId === null ? undefined : byId.get(row.sectionId);
    const kind = KIND_BY_TYPE.get(row.type);
    if (!section || !kind) continue;
    section.counts[kind] += row.live;
    section.deleted += row.deleted;
  }

  const parts = db
    .prepare(
      `SELECT mi.library_section_id AS sectionId, count(*) AS parts
         FROM media_parts mp JOIN media_items mi ON mi.id = mp.media_item_id
        WHERE mp.deleted_at IS NULL AND mp.file <> ''
        GROUP BY mi.library_section_id`,
    )
    .all() as { sectionId: number | null; parts: number }[];
  for (const row of parts) {
    const section = row.sectionId === null ? undefined : byId.get(row.sectionId);
    if (section) section.parts = row.parts;
  }

  return { sections: [...byId.values()] };
}
