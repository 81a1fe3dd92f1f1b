/**
 * Builds realistic Plex library DBs for tests and benchmarks by filling a copy of the real
 * PMS 1.43.2 library DB (test/fixtures/pms-1.43.2), so the result has the modern schema users
 * have and trips stock SQLite exactly like theirs (collating FTS, `_icu` triggers, `icu_root`).
 *
 * Stock SQLite cannot insert into `metadata_items` while the `_icu` triggers and the
 * `icu_root` index are live, so they are set aside and put back (plex-only-objects.ts).
 */
import Database from 'better-sqlite3';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  BLOBS_DB_NAME,
  databaseFileSet,
  MAIN_DB_NAME,
  METADATA_TYPE,
  SECTION_TYPE,
  emptyCounts,
  type CountedKind,
  type LibraryStats,
  type SectionStats,
  type SonicProgress,
} from '@plexlift/shared/plex-db';
import { SECTION_AGENTS } from '@plexlift/shared/plex-api';
import { LibraryWriter } from './library-writer.js';
import { restorePlexObjects, setAsidePlexObjects } from './plex-only-objects.js';
import { AWKWARD_NAMES, LIBRARY_SIZES, createRandom, type LibrarySize, type LibrarySizeName } from './library-profile.js';
import { fileURLToPath } from 'node:url';

export const REAL_DB_DIR = fileURLToPath(new URL('../fixtures/pms-1.43.2/', import.meta.url));

export interface SectionSpec {
  title: string;
  type: 'movie' | 'show' | 'artist' | 'photo';
  /** Absolute root folders; items are spread over them in turn. */
  roots: string[];
}

export const DEFAULT_SECTIONS: SectionSpec[] = [
  { title: 'Movies', type: 'movie', roots: ['/Media/Movies'] },
  { title: 'TV Shows', type: 'show', roots: ['/Media/TV'] },
  { title: 'Music', type: 'artist', roots: ['/Media/Music'] },
  // Two roots, as the predecessor's user had after merging two photo folders.
  { title: 'Photos', type: 'photo', roots: ['/Media/Photo', '/Photo'] },
];

export interface GenerateLibraryOptions {
  /** Folder the DBs are written to (created). */
  dir: string;
  size?: LibrarySizeName | LibrarySize;
  seed?: number;
  /** `json` as PMS ≥ 1.40 writes `extra_data`; `url` as older servers did. */
  extraDataEncoding?: 'json' | 'url';
  /** Share of tracks with Sonic analysis done. */
  sonicRatio?: number;
  /** Share of leaf items (films, episodes, tracks, photos) marked deleted. */
  deletedRatio?: number;
  sections?: SectionSpec[];
}

export interface GeneratedLibrary {
  mainDb: string;
  blobsDb: string;
  /** What the generator inserted, counted by the generator itself. */
  expected: LibraryStats;
  sonic: SonicProgress[];
  /** Every media file path written to `media_parts.file` (not deleted ones included). */
  files: string[];
  /** Every `file://` URL written to `media_streams.url`. */
  streamUrls: string[];
  /** Every `file://` guid written to `metadata_items.guid`. */
  fileGuids: string[];
}

const EPOCH = 1_700_000_000;

export function generateLibrary(options: GenerateLibraryOptions): GeneratedLibrary {
  const size = typeof options.size === 'object' ? options.size : LIBRARY_SIZES[options.size ?? 'tiny'];
  const random = createRandom(options.seed ?? 42);
  const encoding = options.extraDataEncoding ?? 'json';
  const sonicRatio = options.sonicRatio ?? 0.5;
  const deletedRatio = options.deletedRatio ?? 0;
  const sections = options.sections ?? DEFAULT_SECTIONS;

  mkdirSync(options.dir, { recursive: true });
  const mainDb = join(options.dir, MAIN_DB_NAME);
  const blobsDb = join(options.dir, BLOBS_DB_NAME);
  // A stale -wal beside a fresh copy would be replayed into it (plex-db.md §11, trap 2).
  for (const file of [...databaseFileSet(mainDb), ...databaseFileSet(blobsDb)]) rmSync(file, { force: true });
  copyFileSync(join(REAL_DB_DIR, MAIN_DB_NAME), mainDb);
  copyFileSync(join(REAL_DB_DIR, BLOBS_DB_NAME), blobsDb);

  const db = new Database(mainDb);
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  const result: GeneratedLibrary = { mainDb, blobsDb, expected: { sections: [] }, sonic: [], files: [], streamUrls: [], fileGuids: [] };

  // Statements on metadata_items cannot even be prepared while the icu_root index exists.
  db.exec('BEGIN');
  const aside = setAsidePlexObjects(db);

  const write = new LibraryWriter(db);

  let clock = 0;
  const now = () => EPOCH + clock++;
  const hex = (length: number) => {
    let out = '';
    while (out.length < length)
      out += Math.floor(random() * 0x100000000)
        .toString(16)
        .padStart(8, '0');
    return out.slice(0, length);
  };
  const pick = <T>(list: readonly T[], i: number) => list[i % list.length] as T;
  const nameFor = (base: string, i: number) => (i % 5 === 0 ? `${pick(AWKWARD_NAMES, i / 5)} ${base} ${i}` : `${base} ${i}`);
  const isDeleted = () => deletedRatio > 0 && random() < deletedRatio;
  const encodeFileUrl = (path: string, i: number) => 'file://' + (i % 2 === 0 ? encodeURI(path) : path);

  const insertItem = (row: Omit<Parameters<LibraryWriter['item']>[0], 'year' | 'at' | 'hash'>): number =>
    write.item({ ...row, year: 1990 + Math.floor(random() * 35), at: now(), hash: hex(40) });

  const insertMedia = (row: {
    section: number;
    location: number;
    item: number;
    directory: number;
    files: string[];
    deletedAt: number | null;
    kind: 'video' | 'audio' | 'photo';
    subtitle?: boolean;
  }): void => {
    const at = now();
    const media = write.media({
      section: row.section,
      location: row.location,
      item: row.item,
      kind: row.kind,
      size: Math.floor(random() * 4e9),
      duration: row.kind === 'photo' ? null : Math.floor(random() * 7.2e6),
      bitrate: Math.floor(random() * 2e4),
      at,
      deletedAt: row.deletedAt,
      analysisVersion: 6,
    });
    row.files.forEach((file, index) => {
      const part = write.part({
        media,
        directory: row.directory,
        hash: hex(40),
        file,
        index: row.files.length > 1 ? index + 1 : null,
        size: Math.floor(random() * 4e9),
        at,
        deletedAt: row.deletedAt,
      });
      result.files.push(file);
      if (row.kind !== 'photo') {
        write.stream({ type: row.kind === 'video' ? 1 : 2, media, part, url: '', codec: row.kind === 'video' ? 'h264' : 'flac', language: null, at, index: 0 });
      }
      if (row.subtitle && index === 0) {
        const url = encodeFileUrl(file.replace(/\.[^./]+$/, '.en.srt'), media);
        result.streamUrls.push(url);
        write.stream({ type: 3, media, part, url, codec: 'srt', language: 'en', at, index: 2 });
      }
    });
  };

  const extraData = (analysed: boolean, i: number): string | null => {
    const pairs: [string, string][] = [['at:ratingCount', String(i % 97)]];
    if (analysed) pairs.unshift(['ms:musicAnalysisVersion', '1']);
    const url = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    if (encoding === 'url') return url;
    return JSON.stringify({ ...Object.fromEntries(pairs), url });
  };

  try {
    sections.forEach((spec, sectionIndex) => {
      const at = now();
      const section = write.section({
        name: spec.title,
        type: SECTION_TYPE[spec.type],
        ...SECTION_AGENTS[spec.type],
        language: 'en-US',
        uuid: `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`,
        at,
      });
      const roots = spec.roots.map((root) => ({
        root,
        location: write.location(section, root, at),
        directory: write.directory(section, null, '', at),
      }));
      const stats: SectionStats = { id: section, title: spec.title, type: spec.type, counts: emptyCounts(), deleted: 0, parts: 0 };
      const sonic: SonicProgress = { sectionId: section, analyzed: 0, total: 0 };
      const count = (kind: CountedKind, deleted: boolean, parts = 0) => {
        if (deleted) stats.deleted += 1;
        else {
          stats.counts[kind] += 1;
          stats.parts += parts;
        }
      };
      const folder = (rootIndex: number, relative: string) => {
        const root = roots[rootIndex % roots.length]!;
        const directory = write.directory(section, root.directory, relative, at);
        return { ...root, directory, path: `${root.root}/${relative}` };
      };
      const salt = sectionIndex * 1_000_000;

      if (spec.type === 'movie') {
        for (let i = 0; i < size.movies; i++) {
          const title = nameFor('Film', salt + i);
          const dir = folder(i, `${title} (${2000 + (i % 25)})`);
          const deleted = isDeleted();
          const deletedAt = deleted ? now() : null;
          const files = i % 10 === 9 ? [`${dir.path}/${title} - cd1.mkv`, `${dir.path}/${title} - cd2.mkv`] : [`${dir.path}/${title}.mkv`];
          const item = insertItem({
            section,
            parent: null,
            type: METADATA_TYPE.movie,
            guid: `plex://movie/${hex(24)}`,
            title,
            index: null,
            deletedAt,
            mediaCount: 1,
          });
          insertMedia({ section, location: dir.location, item, directory: dir.directory, files, deletedAt, kind: 'video', subtitle: i % 4 === 0 });
          count('movie', deleted, files.length);
          if (i % 3 === 0) {
            // An online extra: a part with an empty file, never counted and never remapped.
            const extra = insertItem({
              section,
              parent: item,
              type: METADATA_TYPE.extra,
              guid: `iva://api.internetvideoarchive.com/2.0/DataService/VideoAssets(${100000 + i})`,
              title: `${title} trailer`,
              index: 1,
              deletedAt: null,
              mediaCount: 1,
            });
            insertMedia({ section, location: dir.location, item: extra, directory: dir.directory, files: [''], deletedAt: null, kind: 'video' });
            result.files.pop();
          }
        }
      } else if (spec.type === 'show') {
        for (let s = 0; s < size.shows; s++) {
          const title = nameFor('Show', salt + s);
          const show = insertItem({ section, parent: null, type: METADATA_TYPE.show, guid: `plex://show/${hex(24)}`, title, index: null, deletedAt: null });
          count('show', false);
          for (let n = 1; n <= size.seasonsPerShow; n++) {
            const season = insertItem({
              section,
              parent: show,
              type: METADATA_TYPE.season,
              guid: `plex://season/${hex(24)}`,
              title: `Season ${n}`,
              index: n,
              deletedAt: null,
            });
            count('season', false);
            const dir = folder(s, `${title}/Season ${String(n).padStart(2, '0')}`);
            for (let e = 1; e <= size.episodesPerSeason; e++) {
              const deleted = isDeleted();
              const deletedAt = deleted ? now() : null;
              const file = `${dir.path}/${title} - S${String(n).padStart(2, '0')}E${String(e).padStart(2, '0')}.mkv`;
              const item = insertItem({
                section,
                parent: season,
                type: METADATA_TYPE.episode,
                guid: `plex://episode/${hex(24)}`,
                title: `Episode ${e}`,
                index: e,
                deletedAt,
                mediaCount: 1,
              });
              insertMedia({ section, location: dir.location, item, directory: dir.directory, files: [file], deletedAt, kind: 'video', subtitle: e % 5 === 1 });
              count('episode', deleted, 1);
            }
          }
        }
      } else if (spec.type === 'artist') {
        let track = 0;
        for (let a = 0; a < size.artists; a++) {
          const name = nameFor('Artist', salt + a);
          const artist = insertItem({
            section,
            parent: null,
            type: METADATA_TYPE.artist,
            guid: `plex://artist/${hex(24)}`,
            title: name,
            index: null,
            deletedAt: null,
          });
          count('artist', false);
          for (let b = 1; b <= size.albumsPerArtist; b++) {
            const albumTitle = `Album ${b}`;
            const album = insertItem({
              section,
              parent: artist,
              type: METADATA_TYPE.album,
              guid: `plex://album/${hex(24)}`,
              title: albumTitle,
              index: b,
              deletedAt: null,
            });
            count('album', false);
            const dir = folder(a, `${name}/${albumTitle}`);
            for (let t = 1; t <= size.tracksPerAlbum; t++) {
              track += 1;
              const deleted = isDeleted();
              const deletedAt = deleted ? now() : null;
              const analysed = random() < sonicRatio;
              const file = `${dir.path}/${String(t).padStart(2, '0')} - Track ${t}.flac`;
              const item = insertItem({
                section,
                parent: album,
                type: METADATA_TYPE.track,
                guid: `plex://track/${hex(24)}`,
                title: `Track ${t}`,
                index: t,
                deletedAt,
                extraData: extraData(analysed, track),
                mediaCount: 1,
              });
              insertMedia({ section, location: dir.location, item, directory: dir.directory, files: [file], deletedAt, kind: 'audio' });
              count('track', deleted, 1);
              if (!deleted) {
                sonic.total += 1;
                if (analysed) sonic.analyzed += 1;
              }
            }
          }
        }
        result.sonic.push(sonic);
      } else {
        for (let a = 0; a < size.photoAlbums; a++) {
          const title = nameFor('Album', salt + a);
          const dir = folder(a, title);
          const album = insertItem({
            section,
            parent: null,
            type: METADATA_TYPE.photoAlbum,
            guid: `local://${section}/${a}`,
            title,
            index: null,
            deletedAt: null,
          });
          for (let p = 1; p <= size.photosPerAlbum; p++) {
            const deleted = isDeleted();
            const deletedAt = deleted ? now() : null;
            const file = `${dir.path}/IMG_${String(p).padStart(4, '0')}.jpg`;
            // Personal media keep a file:// guid (plex-db.md §2.6): a column remap must cover.
            const guid = `file://${file}`;
            result.fileGuids.push(guid);
            const item = insertItem({ section, parent: album, type: METADATA_TYPE.photo, guid, title: `IMG_${p}`, index: p, deletedAt, mediaCount: 1 });
            insertMedia({ section, location: dir.location, item, directory: dir.directory, files: [file], deletedAt, kind: 'photo' });
            count('photo', deleted, 1);
          }
        }
      }
      result.expected.sections.push(stats);
    });

    db.exec('COMMIT');
  } catch (error) {
    db.exec('ROLLBACK');
    db.close();
    throw error;
  }

  restorePlexObjects(db, aside);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return result;
}
