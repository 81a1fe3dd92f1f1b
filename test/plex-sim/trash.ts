import type { SimRuntime } from './runtime.js';

/**
 * Empty Trash (`PUT …/emptyTrash`, or automatically after a scan when `autoEmptyTrash` is on):
 * items marked deleted, and their media, are removed for good. Returns the items removed.
 */
export function emptyTrash(runtime: SimRuntime, section: number): number {
  const db = runtime.library.db;
  return db.transaction(() => {
    const sectionMedia = `SELECT id FROM media_items WHERE library_section_id = ${Number(section)}`;
    db.prepare(
      `DELETE FROM media_streams WHERE media_part_id IN (SELECT id FROM media_parts WHERE deleted_at IS NOT NULL AND media_item_id IN (${sectionMedia}))`,
    ).run();
    db.prepare(`DELETE FROM media_parts WHERE deleted_at IS NOT NULL AND media_item_id IN (${sectionMedia})`).run();
    db.prepare(`DELETE FROM media_items WHERE library_section_id = ? AND deleted_at IS NOT NULL`).run(section);
    const removed = db.prepare(`DELETE FROM metadata_items WHERE library_section_id = ? AND deleted_at IS NOT NULL`).run(section).changes;
    runtime.log.debug(`Library: emptied the trash of section ${section}: ${removed} items removed.`, 'scanner');
    return removed;
  })();
}
