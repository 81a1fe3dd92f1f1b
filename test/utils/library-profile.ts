/** How big a generated library is, per kind. */
export interface LibrarySize {
  movies: number;
  /** Shows × seasons per show × episodes per season. */
  shows: number;
  seasonsPerShow: number;
  episodesPerSeason: number;
  artists: number;
  albumsPerArtist: number;
  tracksPerAlbum: number;
  photoAlbums: number;
  photosPerAlbum: number;
}

/**
 * `reference` is the library of the user DESIGN.md describes: 456k tracks, ~1.3k films and
 * episodes, 28k photos, about 500k items in all.
 */
export const LIBRARY_SIZES = {
  tiny: {
    movies: 6,
    shows: 2,
    seasonsPerShow: 2,
    episodesPerSeason: 3,
    artists: 3,
    albumsPerArtist: 2,
    tracksPerAlbum: 4,
    photoAlbums: 2,
    photosPerAlbum: 5,
  },
  small: {
    movies: 120,
    shows: 8,
    seasonsPerShow: 3,
    episodesPerSeason: 10,
    artists: 60,
    albumsPerArtist: 4,
    tracksPerAlbum: 11,
    photoAlbums: 20,
    photosPerAlbum: 40,
  },
  reference: {
    movies: 560,
    shows: 25,
    seasonsPerShow: 4,
    episodesPerSeason: 8, // 800 episodes: 1,360 films and episodes
    artists: 3_804,
    albumsPerArtist: 10,
    tracksPerAlbum: 12, // 456,480 tracks
    photoAlbums: 472,
    photosPerAlbum: 60, // 28,320 photos
  },
} as const satisfies Record<string, LibrarySize>;

export type LibrarySizeName = keyof typeof LIBRARY_SIZES;

/** Names that trip naive path handling: spaces, quotes, accents, other scripts, `%`, `_`. */
export const AWKWARD_NAMES = [
  'Amélie',
  "Don't Look Up",
  'The "Quoted" One',
  'Sigur Rós',
  'Björk',
  '東京物語',
  'Motörhead',
  '100% Pure',
  'under_score',
  'Ça & Là',
  'Spaces  Twice',
  'Ünïcödé Ñame',
] as const;

/** Deterministic PRNG (mulberry32) so a seed always builds the same library. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
