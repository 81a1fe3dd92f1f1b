import type Database from 'better-sqlite3';

/**
 * Inserts library rows the way PMS 1.43 lays them out (plex-db.md §2.2): sections and their
 * locations, directories relative to the section root, the metadata hierarchy, media items and
 * parts with absolute paths, streams. Used by the library generator and the Plex double.
 * `metadata_items` must have its Plex-only objects set aside (plex-only-objects.ts).
 */
export class LibraryWriter {
  private readonly statements;

  constructor(db: Database.Database) {
    this.statements = {
      section: db.prepare(
        `INSERT INTO library_sections (name, name_sort, section_type, language, agent, scanner, created_at, updated_at, scanned_at, uuid)
         VALUES (@name, @name, @type, @language, @agent, @scanner, @at, @at, NULL, @uuid)`,
      ),
      location: db.prepare(
        `INSERT INTO section_locations (library_section_id, root_path, available, scanned_at, created_at, updated_at) VALUES (?, ?, 1, NULL, ?, ?)`,
      ),
      directory: db.prepare(`INSERT INTO directories (library_section_id, parent_directory_id, path, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`),
      item: db.prepare(
        `INSERT INTO metadata_items (library_section_id, parent_id, metadata_type, guid, media_item_count, title, title_sort,
           "index", year, added_at, created_at, updated_at, deleted_at, extra_data, hash, changed_at)
         VALUES (@section, @parent, @type, @guid, @mediaCount, @title, @title, @index, @year, @at, @at, @at, @deletedAt, @extraData, @hash, @at)`,
      ),
      media: db.prepare(
        `INSERT INTO media_items (library_section_id, section_location_id, metadata_item_id, size, duration, bitrate,
           container, video_codec, audio_codec, created_at, updated_at, deleted_at, media_analysis_version)
         VALUES (@section, @location, @item, @size, @duration, @bitrate, @container, @video, @audio, @at, @at, @deletedAt, @analysisVersion)`,
      ),
      part: db.prepare(
        `INSERT INTO media_parts (media_item_id, directory_id, hash, file, "index", size, duration, created_at, updated_at, deleted_at)
         VALUES (@media, @directory, @hash, @file, @index, @size, NULL, @at, @at, @deletedAt)`,
      ),
      stream: db.prepare(
        `INSERT INTO media_streams (stream_type_id, media_item_id, media_part_id, url, codec, language, created_at, updated_at, "index", "default", forced)
         VALUES (@type, @media, @part, @url, @codec, @language, @at, @at, @index, 1, 0)`,
      ),
    };
  }

  section(row: { name: string; type: number; agent: string; scanner: string; language: string; uuid: string; at: number }): number {
    return Number(this.statements.section.run(row).lastInsertRowid);
  }

  location(section: number, root: string, at: number): number {
    return Number(this.statements.location.run(section, root, at, at).lastInsertRowid);
  }

  directory(section: number, parent: number | null, path: string, at: number): number {
    return Number(this.statements.directory.run(section, parent, path, at, at).lastInsertRowid);
  }

  item(row: {
    section: number;
    parent: number | null;
    type: number;
    guid: string;
    title: string;
    index: number | null;
    year: number | null;
    at: number;
    deletedAt: number | null;
    extraData?: string | null;
    hash: string;
    mediaCount?: number;
  }): number {
    return Number(this.statements.item.run({ extraData: null, mediaCount: 0, ...row }).lastInsertRowid);
  }

  media(row: {
    section: number;
    location: number;
    item: number;
    kind: 'video' | 'audio' | 'photo';
    size: number;
    duration: number | null;
    bitrate: number | null;
    at: number;
    deletedAt: number | null;
    analysisVersion?: number;
  }): number {
    const { kind, ...rest } = row;
    return Number(
      this.statements.media.run({
        ...rest,
        analysisVersion: row.analysisVersion ?? 0,
        container: kind === 'video' ? 'mkv' : kind === 'audio' ? 'flac' : 'jpeg',
        video: kind === 'video' ? 'h264' : null,
        audio: kind === 'photo' ? null : kind === 'video' ? 'ac3' : 'flac',
      }).lastInsertRowid,
    );
  }

  part(row: {
    media: number;
    directory: number;
    hash: string;
    file: string;
    index: number | null;
    size: number;
    at: number;
    deletedAt: number | null;
  }): number {
    return Number(this.statements.part.run(row).lastInsertRowid);
  }

  stream(row: { type: number; media: number; part: number; url: string; codec: string; language: string | null; at: number; index: number | null }): number {
    return Number(this.statements.stream.run(row).lastInsertRowid);
  }
}
