import { extname } from 'node:path';

/** What a file is, read from its path relative to the section root by Plex's naming rules. */
export type ParsedMedia =
  | { kind: 'movie'; title: string; year: number | null; part: number | null; group: string }
  | { kind: 'episode'; show: string; season: number; episode: number; title: string }
  | { kind: 'track'; artist: string; album: string; track: number | null; title: string }
  | { kind: 'photo'; album: string | null; title: string };

const EXTENSIONS = {
  movie: ['.mkv', '.mp4', '.m4v', '.avi', '.mov', '.ts', '.wmv'],
  show: ['.mkv', '.mp4', '.m4v', '.avi', '.mov', '.ts', '.wmv'],
  artist: ['.flac', '.mp3', '.m4a', '.ogg', '.opus', '.wav', '.aac'],
  photo: ['.jpg', '.jpeg', '.png', '.heic', '.gif', '.tif', '.tiff', '.webp'],
} as const;

export type SectionKind = keyof typeof EXTENSIONS;

export function isMediaFile(kind: SectionKind, name: string): boolean {
  return (EXTENSIONS[kind] as readonly string[]).includes(extname(name).toLowerCase());
}

const base = (name: string) => name.slice(0, name.length - extname(name).length);
const TITLE_YEAR = /^(.*?)\s*\((\d{4})\)/;
const PART = /\s*-?\s*(?:cd|pt|part|disc)\s*(\d+)$/i;

/**
 * Movies: `Title (Year)/Title (Year).ext` or `Title (Year).ext`, parts as `- cd1`/`- pt1`.
 * TV: `Show/Season 01/Show - S01E02.ext`. Music: `Artist/Album/01 - Title.ext`.
 * Photos: `Album/…/IMG.jpg`. Returns undefined for what the scanner would skip.
 */
export function parseMediaPath(kind: SectionKind, relative: string): ParsedMedia | undefined {
  const segments = relative.split('/');
  const file = segments.at(-1) ?? '';
  switch (kind) {
    case 'movie': {
      const name = base(file);
      const part = PART.exec(name);
      const stem = part ? name.slice(0, part.index) : name;
      const source = segments.length > 1 ? segments[0]! : stem;
      const match = TITLE_YEAR.exec(source);
      return {
        kind: 'movie',
        title: (match?.[1] ?? source).trim(),
        year: match ? Number(match[2]) : null,
        part: part ? Number(part[1]) : null,
        group: segments.length > 1 ? segments.slice(0, -1).join('/') : stem,
      };
    }
    case 'show': {
      const match = /[Ss](\d{1,3})[Ee](\d{1,4})/.exec(file);
      if (!match || segments.length < 2) return undefined;
      return { kind: 'episode', show: segments[0]!, season: Number(match[1]), episode: Number(match[2]), title: `Episode ${Number(match[2])}` };
    }
    case 'artist': {
      if (segments.length < 2) return undefined;
      const name = base(file);
      const track = /^(\d{1,3})\s*[-.]?\s*(.*)$/.exec(name);
      return {
        kind: 'track',
        artist: segments[0]!,
        album: segments.length > 2 ? segments[1]! : '[Unknown Album]',
        track: track ? Number(track[1]) : null,
        title: (track?.[2] || name).trim(),
      };
    }
    case 'photo':
      return { kind: 'photo', album: segments.length > 1 ? segments.slice(0, -1).join('/') : null, title: base(file) };
  }
}
