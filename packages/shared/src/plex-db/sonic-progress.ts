import { METADATA_TYPE, SECTION_TYPE } from './plex-codes.js';
import type { SqliteDatabase } from './open-database.js';

export interface SonicProgress {
  sectionId: number;
  /** Tracks (not marked deleted) that carry a `musicAnalysisVersion`. */
  analyzed: number;
  /** Tracks not marked deleted. */
  total: number;
}

/**
 * Sonic analysis progress per music section, from the DB. A track is analysed when its
 * `extra_data` has `ms:musicAnalysisVersion`, in either encoding (plex-db.md §2.4):
 * JSON since PMS 1.40 (`{"ms:musicAnalysisVersion":"1",…}`) or URL-encoded before
 * (`ms%3AmusicAnalysisVersion=1&…`). A LIKE on the decoded key alone misses old rows.
 */
export function readSonicProgress(db: SqliteDatabase): SonicProgress[] {
  const rows = db
    .prepare(
      `SELECT s.id AS sectionId,
              count(m.id) AS total,
              coalesce(sum(instr(m.extra_data, '"ms:musicAnalysisVersion"') > 0
                        OR instr(m.extra_data, 'ms%3AmusicAnalysisVersion=') > 0), 0) AS analyzed
         FROM library_sections s
         LEFT JOIN metadata_items m
           ON m.library_section_id = s.id AND m.metadata_type = ${METADATA_TYPE.track} AND m.deleted_at IS NULL
        WHERE s.section_type = ${SECTION_TYPE.artist}
        GROUP BY s.id
        ORDER BY s.id`,
    )
    .all() as { sectionId: number; total: number; analyzed: number }[];
  return rows.map((row) => ({ sectionId: row.sectionId, analyzed: row.analyzed, total: row.total }));
}
