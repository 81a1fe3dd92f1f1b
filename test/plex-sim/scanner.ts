import { createHash } from 'node:crypto';
import { open, readdir, stat } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { basename, dirname, extname, join, relative } from 'node:path';
import { METADATA_TYPE, sectionTypeName } from '@plexlift/shared/plex-db';
import type { Activity } from './activities.js';
import type { SectionRow } from './library-db.js';
import { isMediaFile, parseMediaPath, type ParsedMedia, type SectionKind } from './media-naming.js';
import type { SimRuntime } from './runtime.js';
import { emptyTrash } from './trash.js';

export interface ScanResult {
  added: number;
  /** Files known to the DB and seen again. */
  kept: number;
  /** Items newly marked deleted (files gone, unreadable or invisible). */
  markedDeleted: number;
  /** Items purged by the automatic empty trash. */
  purged: number;
  /** Ids of items added, for the metadata queue. */
  addedItems: number[];
}

interface KnownPart {
  partId: number;
  mediaId: number;
  itemId: number;
  deleted: boolean;
}

/** How much of each file the scanner reads: real I/O, so a FUSE mount sees it. */
const HEAD_BYTES = 64 * 1024;

/**
 * A section scan as PMS does it: walk each location (or the `path=` folder), read the head of
 * every media file, add new items with absolute paths, mark what is gone deleted, and, when
 * `autoEmptyTrash` is on, purge those after the scan. A location whose root is missing is
 * marked unavailable and left alone; an empty or half-dead mount is not (plex-db.md §2.5).
 */
export async function scanSection(runtime: SimRuntime, section: SectionRow, activity: Activity, options: { path?: string } = {}): Promise<ScanResult> {
  const { library, log, notifier } = runtime;
  const kind = sectionTypeName(section.sectionType) as SectionKind;
  const signal = activity.controller.signal;
  const db = library.db;
  log.debug(`Scanning section ${section.id}`, 'scanner');
  log.debug(
    `Scanning ${section.name} using en(${section.scanner}) with ${countParts(runtime, section.id)} current media items and ${section.locations.length} section locations in the database.`,
    'scanner',
  );

  const known = new Map<string, KnownPart>(
    (
      db
        .prepare(
          `SELECT mp.file, mp.id AS partId, mi.id AS mediaId, m.id AS itemId, mp.deleted_at IS NOT NULL AS deleted
             FROM media_parts mp JOIN media_items mi ON mi.id = mp.media_item_id JOIN metadata_items m ON m.id = mi.metadata_item_id
            WHERE mi.library_section_id = ? AND mp.file <> ''`,
        )
        .all(section.id) as (Omit<KnownPart, 'deleted'> & { file: string; deleted: number })[]
    ).map((row) => [row.file, { partId: row.partId, mediaId: row.mediaId, itemId: row.itemId, deleted: row.deleted === 1 }]),
  );

  // Walk first, so progress has a total.
  const found: { location: SectionRow['locations'][number]; file: string }[] = [];
  const scannedRoots: string[] = [];
  for (const location of section.locations) {
    const start = options.path ?? location.path;
    if (options.path && !(options.path === location.path || options.path.startsWith(location.path + '/'))) continue;
    try {
      await stat(location.path);
    } catch {
      log.warn(`The location ${location.path} is not available; marking it offline.`, 'scanner');
      db.prepare(`UPDATE section_locations SET available = 0 WHERE id = ?`).run(location.id);
      continue;
    }
    db.prepare(`UPDATE section_locations SET available = 1 WHERE id = ?`).run(location.id);
    log.debug(`Performing a scan with '${section.scanner}' (language: en virtual: 0).`, 'scanner');
    log.debug(`  * Scanning ${start}`, 'scanner');
    scannedRoots.push(start);
    for await (const file of walk(runtime, start)) {
      if (isMediaFile(kind, file)) found.push({ location, file });
    }
  }

  const result: ScanResult = { added: 0, kept: 0, markedDeleted: 0, purged: 0, addedItems: [] };
  const seen = new Set<string>();
  const hierarchy = new Hierarchy(runtime, section);
  // Context arrives with the first update, not in the `started` event (plex-api.md §4.1).
  activity.context = { librarySectionID: String(section.id) };
  runtime.activities.update(activity, { progress: 0, subtitle: section.name });
  for (const [i, { location, file }] of found.entries()) {
    signal.throwIfAborted();
    const parsed = parseMediaPath(kind, relative(location.path, file));
    if (!parsed) continue;
    let size: number;
    try {
      size = await readHead(runtime, file);
    } catch {
      log.debug(`File '${file}' didn't exist`, 'scanner');
      continue;
    }
    seen.add(file);
    const existing = known.get(file);
    db.transaction(() => {
      if (existing) {
        result.kept += 1;
        if (existing.deleted) restoreItem(runtime, existing);
      } else {
        const itemId = hierarchy.add(parsed, location, file, size);
        if (itemId !== undefined) {
          result.added += 1;
          result.addedItems.push(itemId);
          notifier.timeline({ sectionID: section.id, itemID: itemId, type: leafType(parsed), title: parsed.title, state: 0, metadataState: 'created' });
        }
      }
    })();
    runtime.burn();
    runtime.itemScanned();
    runtime.activities.update(activity, { progress: ((i + 1) / found.length) * 100, subtitle: parsed.title });
    await runtime.wait(runtime.options.timings.scanItemMs, signal);
  }

  // What the walk did not see under the scanned roots is gone.
  const gone = [...known].filter(
    ([file, part]) => !part.deleted && !seen.has(file) && scannedRoots.some((root) => file === root || file.startsWith(root + '/')),
  );
  db.transaction(() => {
    const leaves = gone.reduce((n, [, part]) => n + markDeleted(runtime, part), 0);
    result.markedDeleted = leaves + markEmptyParentsDeleted(runtime, section.id);
  })();
  const now = runtime.epoch();
  db.prepare(`UPDATE library_sections SET scanned_at = ?, updated_at = ?, content_changed_at = ? WHERE id = ?`).run(now, now, now, section.id);
  db.prepare(`UPDATE section_locations SET scanned_at = ? WHERE library_section_id = ?`).run(now, section.id);

  if (runtime.preferences.value('autoEmptyTrash') === true && result.markedDeleted > 0) {
    result.purged = emptyTrash(runtime, section.id);
  }
  notifier.status('Library scan complete', `Scanned ${section.name}`);
  return result;
}

async function* walk(runtime: SimRuntime, dir: string): AsyncGenerator<string> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(runtime, path);
    // The degraded rclone mount: folders still list, files do not.
    else if (entry.isFile() && !runtime.options.faults.invisibleFiles) yield path;
  }
}

async function readHead(runtime: SimRuntime, file: string): Promise<number> {
  if (runtime.options.faults.staleFiles) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${file}'`), { code: 'ENOENT' });
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    await handle.read(Buffer.alloc(Math.min(HEAD_BYTES, Math.max(1, size))), 0, Math.min(HEAD_BYTES, Math.max(1, size)), 0);
    return size;
  } finally {
    await handle.close();
  }
}

/** Creates the metadata hierarchy of new files, reusing parents found in the DB or this scan. */
class Hierarchy {
  private readonly containers = new Map<string, number>();
  private readonly directories = new Map<string, number>();
  private readonly movies = new Map<string, { item: number; media: number }>();

  constructor(
    private readonly runtime: SimRuntime,
    private readonly section: SectionRow,
  ) {
    const db = runtime.library.db;
    const rows = db
      .prepare(
        `SELECT id, metadata_type AS type, parent_id AS parent, title, "index" AS number FROM metadata_items WHERE library_section_id = ? AND metadata_type IN (2, 3, 8, 9, 14)`,
      )
      .all(section.id) as { id: number; type: number; parent: number | null; title: string; number: number | null }[];
    for (const row of rows) this.containers.set(containerKey(row.type, row.parent, row.type === 3 ? String(row.number) : row.title), row.id);
    const dirs = db.prepare(`SELECT id, path FROM directories WHERE library_section_id = ?`).all(section.id) as { id: number; path: string }[];
    for (const dir of dirs) this.directories.set(dir.path, dir.id);
  }

  add(parsed: ParsedMedia, location: SectionRow['locations'][number], file: string, size: number): number | undefined {
    const at = this.runtime.epoch();
    const write = this.runtime.library.write;
    const directory = this.directory(location.path, dirname(file), at);
    const hash = (value: string) => createHash('sha1').update(value).digest('hex');
    const base = { section: this.section.id, at, deletedAt: null, year: null };
    const media = (item: number, kind: 'video' | 'audio' | 'photo') =>
      write.media({ section: this.section.id, location: location.id, item, kind, size, duration: null, bitrate: null, at, deletedAt: null });
    const part = (mediaId: number, index: number | null) =>
      write.part({ media: mediaId, directory, hash: hash(`${file}:${size}`), file, index, size, at, deletedAt: null });

    switch (parsed.kind) {
      case 'movie': {
        const grouped = this.movies.get(parsed.group);
        if (grouped && parsed.part !== null) {
          part(grouped.media, parsed.part);
          return undefined;
        }
        const item = write.item({
          ...base,
          parent: null,
          type: METADATA_TYPE.movie,
          guid: `plex://movie/${hash(parsed.group).slice(0, 24)}`,
          title: parsed.title,
          index: null,
          year: parsed.year,
          hash: hash(`movie:${file}`),
          mediaCount: 1,
        });
        const mediaId = media(item, 'video');
        const partId = part(mediaId, parsed.part);
        this.streams(mediaId, partId, file, 'video', at);
        this.movies.set(parsed.group, { item, media: mediaId });
        return item;
      }
      case 'episode': {
        const show = this.container(METADATA_TYPE.show, null, parsed.show, () => ({
          title: parsed.show,
          index: null,
          guid: `plex://show/${hash(parsed.show).slice(0, 24)}`,
        }));
        const season = this.container(METADATA_TYPE.season, show, String(parsed.season), () => ({
          title: `Season ${parsed.season}`,
          index: parsed.season,
          guid: `plex://season/${hash(`${parsed.show}/${parsed.season}`).slice(0, 24)}`,
        }));
        const item = write.item({
          ...base,
          parent: season,
          type: METADATA_TYPE.episode,
          guid: `plex://episode/${hash(file).slice(0, 24)}`,
          title: parsed.title,
          index: parsed.episode,
          hash: hash(`episode:${file}`),
          mediaCount: 1,
        });
        const mediaId = media(item, 'video');
        this.streams(mediaId, part(mediaId, null), file, 'video', at);
        return item;
      }
      case 'track': {
        const artist = this.container(METADATA_TYPE.artist, null, parsed.artist, () => ({
          title: parsed.artist,
          index: null,
          guid: `plex://artist/${hash(parsed.artist).slice(0, 24)}`,
        }));
        const album = this.container(METADATA_TYPE.album, artist, parsed.album, () => ({
          title: parsed.album,
          index: null,
          guid: `plex://album/${hash(`${parsed.artist}/${parsed.album}`).slice(0, 24)}`,
        }));
        const item = write.item({
          ...base,
          parent: album,
          type: METADATA_TYPE.track,
          guid: `plex://track/${hash(file).slice(0, 24)}`,
          title: parsed.title,
          index: parsed.track,
          hash: hash(`track:${file}`),
          mediaCount: 1,
        });
        const mediaId = media(item, 'audio');
        this.streams(mediaId, part(mediaId, null), file, 'audio', at);
        return item;
      }
      case 'photo': {
        const album =
          parsed.album === null
            ? null
            : this.container(METADATA_TYPE.photoAlbum, null, parsed.album, () => ({
                title: parsed.album!.split('/').at(-1)!,
                index: null,
                guid: `local://${hash(parsed.album!).slice(0, 24)}`,
              }));
        const item = write.item({
          ...base,
          parent: album,
          type: METADATA_TYPE.photo,
          guid: `local://${hash(file).slice(0, 24)}`,
          title: parsed.title,
          index: null,
          hash: hash(`photo:${file}`),
          mediaCount: 1,
        });
        part(media(item, 'photo'), null);
        return item;
      }
    }
  }

  private container(type: number, parent: number | null, name: string, create: () => { title: string; index: number | null; guid: string }): number {
    const key = containerKey(type, parent, name);
    let id = this.containers.get(key);
    if (id === undefined) {
      const { title, index, guid } = create();
      const hash = createHash('sha1').update(`${type}:${guid}`).digest('hex');
      id = this.runtime.library.write.item({
        section: this.section.id,
        parent,
        type,
        guid,
        title,
        index,
        year: null,
        at: this.runtime.epoch(),
        deletedAt: null,
        hash,
      });
      this.containers.set(key, id);
    }
    return id;
  }

  private directory(root: string, folder: string, at: number): number {
    const relativePath = relative(root, folder);
    const known = this.directories.get(relativePath);
    if (known !== undefined) return known;
    const parent = relativePath === '' ? null : this.directory(root, dirname(folder), at);
    const id = this.runtime.library.write.directory(this.section.id, parent, relativePath, at);
    this.directories.set(relativePath, id);
    return id;
  }

  private streams(media: number, part: number, file: string, kind: 'video' | 'audio', at: number): void {
    const write = this.runtime.library.write;
    if (kind === 'video') write.stream({ type: 1, media, part, url: '', codec: 'h264', language: null, at, index: 0 });
    write.stream({ type: 2, media, part, url: '', codec: kind === 'video' ? 'ac3' : 'flac', language: null, at, index: 1 });
    if (kind !== 'video') return;
    // Sidecar subtitles (`Film.en.srt` beside `Film.mkv`): a stream whose url is the file's (plex-db.md §2.2).
    const stem = basename(file, extname(file));
    for (const name of readdirSync(dirname(file))
      .filter((n) => n.startsWith(`${stem}.`) && n.endsWith('.srt'))
      .sort()) {
      const language = name.slice(stem.length + 1, -'.srt'.length) || null;
      write.stream({ type: 3, media, part, url: `file://${join(dirname(file), name)}`, codec: 'srt', language, at, index: null });
    }
  }
}

function containerKey(type: number, parent: number | null, name: string): string {
  return `${type}|${parent ?? ''}|${name}`;
}

function leafType(parsed: ParsedMedia): number {
  return { movie: METADATA_TYPE.movie, episode: METADATA_TYPE.episode, track: METADATA_TYPE.track, photo: METADATA_TYPE.photo }[parsed.kind];
}

/** Marks a part gone; returns 1 when that leaves its item with no part, so the item is marked too. */
function markDeleted(runtime: SimRuntime, part: KnownPart): number {
  const db = runtime.library.db;
  const now = runtime.epoch();
  db.prepare(`UPDATE media_parts SET deleted_at = ? WHERE id = ?`).run(now, part.partId);
  // A media item (and its metadata item) is gone when none of its parts is left.
  const left = db.prepare(`SELECT count(*) AS n FROM media_parts WHERE media_item_id = ? AND deleted_at IS NULL`).get(part.mediaId) as { n: number };
  if (left.n > 0) return 0;
  db.prepare(`UPDATE media_items SET deleted_at = ? WHERE id = ?`).run(now, part.mediaId);
  return db.prepare(`UPDATE metadata_items SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL`).run(now, part.itemId).changes;
}

function restoreItem(runtime: SimRuntime, part: KnownPart): void {
  const db = runtime.library.db;
  db.prepare(`UPDATE media_parts SET deleted_at = NULL WHERE id = ?`).run(part.partId);
  db.prepare(`UPDATE media_items SET deleted_at = NULL WHERE id = ?`).run(part.mediaId);
  // The item and every parent up the chain are back.
  db.prepare(
    `WITH RECURSIVE chain(id) AS (SELECT ? UNION SELECT m.parent_id FROM metadata_items m JOIN chain ON m.id = chain.id WHERE m.parent_id IS NOT NULL)
     UPDATE metadata_items SET deleted_at = NULL WHERE id IN (SELECT id FROM chain)`,
  ).run(part.itemId);
}

/** Seasons, shows, albums, artists and photo albums whose children are all gone. */
function markEmptyParentsDeleted(runtime: SimRuntime, section: number): number {
  const db = runtime.library.db;
  let marked = 0;
  for (const type of [METADATA_TYPE.season, METADATA_TYPE.album, METADATA_TYPE.photoAlbum, METADATA_TYPE.show, METADATA_TYPE.artist]) {
    marked += db
      .prepare(
        `UPDATE metadata_items SET deleted_at = ? WHERE library_section_id = ? AND metadata_type = ? AND deleted_at IS NULL
           AND EXISTS (SELECT 1 FROM metadata_items c WHERE c.parent_id = metadata_items.id)
           AND NOT EXISTS (SELECT 1 FROM metadata_items c WHERE c.parent_id = metadata_items.id AND c.deleted_at IS NULL)`,
      )
      .run(runtime.epoch(), section, type).changes;
  }
  return marked;
}

function countParts(runtime: SimRuntime, section: number): number {
  return (
    runtime.library.db
      .prepare(
        `SELECT count(*) AS n FROM media_parts mp JOIN media_items mi ON mi.id = mp.media_item_id WHERE mi.library_section_id = ? AND mp.deleted_at IS NULL`,
      )
      .get(section) as { n: number }
  ).n;
}
