import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface MediaTreeSize {
  movies?: number;
  /** The first films that have an English sidecar subtitle (`Title (Year).en.srt`). */
  subtitledMovies?: number;
  shows?: number;
  seasons?: number;
  episodes?: number;
  artists?: number;
  albums?: number;
  tracks?: number;
  photoAlbums?: number;
  photos?: number;
}

/** The files written, by section kind, as absolute paths. */
export interface MediaTree {
  movies: string[];
  episodes: string[];
  tracks: string[];
  photos: string[];
  roots: { movies: string; tv: string; music: string; photos: string };
}

/**
 * Writes a media tree named the way Plex's scanners expect (movies `Title (Year)/…`, TV
 * `Show/Season 01/Show - S01E02.mkv`, music `Artist/Album/01 - Title.flac`, photos
 * `Album/IMG_0001.jpg`), each file a few KiB of real bytes.
 */
export function createMediaTree(root: string, size: MediaTreeSize = {}): MediaTree {
  const roots = { movies: join(root, 'Movies'), tv: join(root, 'TV'), music: join(root, 'Music'), photos: join(root, 'Photos') };
  const tree: MediaTree = { movies: [], episodes: [], tracks: [], photos: [], roots };
  const write = (path: string, bytes = 8192) => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, Buffer.alloc(bytes, path.length % 251));
    return path;
  };
  for (let i = 1; i <= (size.movies ?? 3); i++) {
    const name = i === 1 ? `Amélie (2001)` : i === 2 ? `Don't Look Up (2021)` : `Film ${i} (${2000 + i})`;
    tree.movies.push(write(join(roots.movies, name, `${name}.mkv`)));
    if (i <= (size.subtitledMovies ?? 0)) write(join(roots.movies, name, `${name}.en.srt`), 512);
  }
  for (let s = 1; s <= (size.shows ?? 2); s++) {
    const show = s === 1 ? 'The Office (US)' : `Show ${s}`;
    for (let n = 1; n <= (size.seasons ?? 2); n++) {
      for (let e = 1; e <= (size.episodes ?? 3); e++) {
        const code = `S${String(n).padStart(2, '0')}E${String(e).padStart(2, '0')}`;
        tree.episodes.push(write(join(roots.tv, show, `Season ${String(n).padStart(2, '0')}`, `${show} - ${code}.mkv`)));
      }
    }
  }
  for (let a = 1; a <= (size.artists ?? 2); a++) {
    const artist = a === 1 ? 'Sigur Rós' : `Artist ${a}`;
    for (let b = 1; b <= (size.albums ?? 2); b++) {
      for (let t = 1; t <= (size.tracks ?? 4); t++) {
        tree.tracks.push(write(join(roots.music, artist, `Album ${b}`, `${String(t).padStart(2, '0')} - Song ${t}.flac`), 4096));
      }
    }
  }
  for (let a = 1; a <= (size.photoAlbums ?? 1); a++) {
    for (let p = 1; p <= (size.photos ?? 3); p++) {
      tree.photos.push(write(join(roots.photos, `Holiday ${2020 + a}`, `IMG_${String(p).padStart(4, '0')}.jpg`), 2048));
    }
  }
  return tree;
}
