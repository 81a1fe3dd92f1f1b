import { METADATA_TYPE, sectionTypeName, type SectionTypeName } from './plex-codes.js';
import type { SqliteDatabase } from './open-database.js';

/** The items a section is made of, by its type: what a library can lose. */
const LEAF_TYPE: Record<SectionTypeName, number> = {
  movie: METADATA_TYPE.movie,
  show: METADATA_TYPE.episode,
  artist: METADATA_TYPE.track,
  photo: METADATA_TYPE.photo,
};

export interface SectionLoss {
  /** The section's id in the library that has the items. */
  sectionId: number;
  title: string;
  type: SectionTypeName;
  /** Its items (not marked deleted). */
  total: number;
  /** Those the other library lacks. */
  missing: number;
  /** A few of their titles, for a message a person can check. */
  sample: string[];
  /** The other library has no section of this one's uuid, or of its name and type. */
  sectionMissing: boolean;
}

interface SectionRow {
  id: number;
  name: string | null;
  type: number;
  uuid: string | null;
}

const SAMPLE_SIZE = 5;

/**
 * What `from` has that `to` lacks, per section of `from`, by stable identity: an item is kept
 * when `to`'s matching section (same uuid, else same name and type) holds an item of its guid or
 * a part of one of its files. Local ids never match (they differ between two builds of a
 * library), nor do `local://` guids, which are built from them. Both DBs only read; a live one
 * (WAL) is fine.
 */
export function findLibraryLosses(from: SqliteDatabase, to: SqliteDatabase): SectionLoss[] {
  const targets = sectionsOf(to);
  const losses: SectionLoss[] = [];
  for (const section of sectionsOf(from)) {
    const type = sectionTypeName(section.type);
    if (type === 'unknown') continue;
    const target =
      targets.find((t) => section.uuid !== null && t.uuid === section.uuid) ?? targets.find((t) => t.name === section.name && t.type === section.type);
    const kept = target ? identitiesOf(to, target.id, LEAF_TYPE[type]) : { guids: new Set<string>(), files: new Set<string>() };
    let total = 0;
    const missingIds: number[] = [];
    let current: { id: number; matched: boolean } | undefined;
    const settle = () => {
      if (current && !current.matched) missingIds.push(current.id);
    };
    // One row per item and file, ordered by item: an item is kept once any of its rows matches.
    for (const row of leafRows(from, section.id, LEAF_TYPE[type])) {
      if (current?.id !== row.id) {
        settle();
        total += 1;
        current = { id: row.id, matched: isStableGuid(row.guid) && kept.guids.has(row.guid!) };
      }
      if (!current.matched && row.file !== null && kept.files.has(row.file)) current.matched = true;
    }
    settle();
    losses.push({
      sectionId: section.id,
      title: section.name ?? '',
      type,
      total,
      missing: missingIds.length,
      sample: titlesOf(from, missingIds.slice(0, SAMPLE_SIZE)),
      sectionMissing: target === undefined,
    });
  }
  return losses;
}

function sectionsOf(db: SqliteDatabase): SectionRow[] {
  return db.prepare('SELECT id, name, section_type AS type, uuid FROM library_sections ORDER BY id').all() as SectionRow[];
}

function isStableGuid(guid: string | null): boolean {
  return guid !== null && guid !== '' && !guid.startsWith('local://');
}

function leafRows(db: SqliteDatabase, sectionId: number, type: number): IterableIterator<{ id: number; guid: string | null; file: string | null }> {
  return db
    .prepare(
      `SELECT mi.id, mi.guid, mp.file
         FROM metadata_items mi
         LEFT JOIN media_items m ON m.metadata_item_id = mi.id AND m.deleted_at IS NULL
         LEFT JOIN media_parts mp ON mp.media_item_id = m.id AND mp.deleted_at IS NULL AND mp.file <> ''
        WHERE mi.library_section_id = ? AND mi.metadata_type = ? AND mi.deleted_at IS NULL
        ORDER BY mi.id`,
    )
    .iterate(sectionId, type) as IterableIterator<{ id: number; guid: string | null; file: string | null }>;
}

function identitiesOf(db: SqliteDatabase, sectionId: number, type: number): { guids: Set<string>; files: Set<string> } {
  const guids = new Set<string>();
  const files = new Set<string>();
  for (const row of leafRows(db, sectionId, type)) {
    if (isStableGuid(row.guid)) guids.add(row.guid!);
    if (row.file !== null) files.add(row.file);
  }
  return { guids, files };
}

/** "Show — Episode" and "Artist — Track": an episode's title alone says little. */
function titlesOf(db: SqliteDatabase, ids: number[]): string[] {
  const read = db.prepare(
    `SELECT coalesce(gp.title || ' — ', '') || coalesce(mi.title, '') AS title
       FROM metadata_items mi
       LEFT JOIN metadata_items p ON p.id = mi.parent_id
       LEFT JOIN metadata_items gp ON gp.id = p.parent_id
      WHERE mi.id = ?`,
  );
  return ids.map((id) => (read.pluck().get(id) as string | undefined) ?? `item ${id}`);
}
