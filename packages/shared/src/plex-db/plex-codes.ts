/**
 * Plex's numeric codes (plex-db.md §2.3, = python-plexapi's SEARCHTYPES). 12 is an extra
 * (trailer, clip), 13 a photo and 14 a photo album, not the other way round (plex-db.md §11,
 * Traps: metadata_type 12 = extras).
 */
export const METADATA_TYPE = {
  movie: 1,
  show: 2,
  season: 3,
  episode: 4,
  trailer: 5,
  artist: 8,
  album: 9,
  track: 10,
  extra: 12,
  photo: 13,
  photoAlbum: 14,
  playlist: 15,
  collection: 18,
} as const;

/** `library_sections.section_type`. */
export const SECTION_TYPE = {
  movie: 1,
  show: 2,
  artist: 8,
  photo: 13,
} as const;

export type SectionTypeName = keyof typeof SECTION_TYPE;

export function sectionTypeName(code: number): SectionTypeName | 'unknown' {
  const entry = Object.entries(SECTION_TYPE).find(([, value]) => value === code);
  return entry ? (entry[0] as SectionTypeName) : 'unknown';
}

/** `media_streams.stream_type_id` (the DB's own `stream_types` table is wrong: ignore it). */
export const STREAM_TYPE = {
  video: 1,
  audio: 2,
  subtitle: 3,
  lyrics: 4,
} as const;
