import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './open-database.js';

/**
 * The local ids of one library DB (sections, devices, media parts and streams), turned into keys
 * that mean the same in another build of the library, and back: a section by its uuid (else its
 * name and type), a device by its identifier, a part by its file, a stream by its part's file,
 * its type, its index and its url. Two DBs built from one snapshot share none of their new ids.
 * Lookups go through the DB's own indexes, one row at a time: only the ids a merge meets are read.
 */
export class StableKeys {
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly db: SqliteDatabase) {}

  section(id: number | null): string | undefined {
    if (id === null) return undefined;
    const row = this.get<{ uuid: string | null; name: string | null; type: number }>(
      'section',
      'SELECT uuid, name, section_type AS type FROM library_sections WHERE id = ?',
      id,
    );
    return row ? JSON.stringify([row.uuid, row.name, row.type]) : undefined;
  }

  sectionId(key: string | undefined): number | undefined {
    if (key === undefined) return undefined;
    const [uuid, name, type] = JSON.parse(key) as [string | null, string | null, number];
    return (
      this.get<{ id: number }>('section-by-uuid', 'SELECT id FROM library_sections WHERE uuid = ?', uuid)?.id ??
      this.get<{ id: number }>('section-by-name', 'SELECT id FROM library_sections WHERE name IS ? AND section_type = ? ORDER BY id', name, type)?.id
    );
  }

  device(id: number | null): string | undefined {
    if (id === null) return undefined;
    return this.get<{ identifier: string | null }>('device', 'SELECT identifier FROM devices WHERE id = ?', id)?.identifier ?? undefined;
  }

  deviceId(identifier: string | undefined): number | undefined {
    if (identifier === undefined) return undefined;
    return this.get<{ id: number }>('device-by-identifier', 'SELECT id FROM devices WHERE identifier = ? ORDER BY id', identifier)?.id;
  }

  part(id: number | null): string | undefined {
    if (id === null) return undefined;
    const file = this.get<{ file: string | null }>('part', 'SELECT file FROM media_parts WHERE id = ?', id)?.file;
    return file ? file : undefined;
  }

  partId(file: string | undefined): number | undefined {
    if (file === undefined) return undefined;
    return this.get<{ id: number }>('part-by-file', 'SELECT id FROM media_parts WHERE file = ? AND deleted_at IS NULL ORDER BY id', file)?.id;
  }

  stream(id: number | null): string | undefined {
    if (id === null || id === 0) return undefined;
    const row = this.get<{ file: string | null; type: number; index: number | null; url: string | null }>(
      'stream',
      `SELECT mp.file, ms.stream_type_id AS type, ms."index" AS "index", ms.url
         FROM media_streams ms JOIN media_parts mp ON mp.id = ms.media_part_id WHERE ms.id = ?`,
      id,
    );
    return row?.file ? JSON.stringify([row.file, row.type, row.index, row.url ?? '']) : undefined;
  }

  streamId(key: string | undefined): number | undefined {
    if (key === undefined) return undefined;
    const [file, type, index, url] = JSON.parse(key) as [string, number, number | null, string];
    return this.get<{ id: number }>(
      'stream-by-key',
      `SELECT ms.id FROM media_streams ms JOIN media_parts mp ON mp.id = ms.media_part_id
        WHERE mp.file = ? AND mp.deleted_at IS NULL AND ms.stream_type_id = ? AND ms."index" IS ? AND coalesce(ms.url, '') = ? ORDER BY ms.id`,
      file,
      type,
      index,
      url,
    )?.id;
  }

  private get<T>(name: string, sql: string, ...params: unknown[]): T | undefined {
    let statement = this.statements.get(name);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(name, statement);
    }
    return statement.get(...params) as T | undefined;
  }
}
