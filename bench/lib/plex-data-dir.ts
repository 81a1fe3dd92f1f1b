import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_CACHE, referenceLibrary } from './reference-library.js';

export interface PlexDataDir {
  /** `…/Plex Media Server`, what the agent archives. */
  pmsDir: string;
  bytes: number;
  files: number;
}

// A bundle per item as Plex lays them out: `Metadata/<Type>/<h>/<hash>.bundle/Contents/…` with a
// small XML and, for one item in two, artwork (JPEG: incompressible); `Media/localhost/<h>/…`
// with index thumbnails (BIF: JPEGs again).
const ITEMS = 16_000;
const MEDIA_BUNDLES = 6_000;

/**
 * A Plex data dir of over 2 GB: the reference library's DBs and tens of thousands of small
 * `Metadata/` and `Media/` files. Built once (seeded, so every run archives the same bytes).
 */
export function plexDataDir(): PlexDataDir {
  const library = referenceLibrary('reference');
  const root = join(BENCH_CACHE, 'data-dir-v1');
  const pmsDir = join(root, 'Library', 'Application Support', 'Plex Media Server');
  const stamp = join(root, 'complete');
  if (!existsSync(stamp)) {
    rmSync(root, { recursive: true, force: true });
    console.log(`generating a Plex data dir (once; cached in ${root}) …`);
    const databases = join(pmsDir, 'Plug-in Support', 'Databases');
    mkdirSync(databases, { recursive: true });
    for (const file of ['com.plexapp.plugins.library.db', 'com.plexapp.plugins.library.blobs.db']) copyFileSync(join(library, file), join(databases, file));
    let seed = 7;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const hex = (n: number) => n.toString(16).padStart(40, '0').slice(-40);
    for (let i = 0; i < ITEMS; i++) {
      const hash = hex(i * 2_654_435_761 + 1);
      const contents = join(pmsDir, 'Metadata', ['Movies', 'TV Shows', 'Artists', 'Albums'][i % 4]!, hash[0]!, `${hash.slice(1)}.bundle`, 'Contents');
      mkdirSync(join(contents, '_combined'), { recursive: true });
      writeFileSync(join(contents, '_combined', 'Info.xml'), infoXml(i));
      if (i % 2 === 0) {
        mkdirSync(join(contents, '_combined', 'posters'), { recursive: true });
        writeFileSync(join(contents, '_combined', 'posters', `tv.plex.agents.movie_${hash.slice(0, 8)}`), randomBytes(40_000 + Math.floor(next() * 160_000)));
      }
    }
    for (let i = 0; i < MEDIA_BUNDLES; i++) {
      const hash = hex(i * 40_503 + 7);
      const contents = join(pmsDir, 'Media', 'localhost', hash[0]!, `${hash.slice(1)}.bundle`, 'Contents', 'Indexes');
      mkdirSync(contents, { recursive: true });
      writeFileSync(join(contents, 'index-sd.bif'), randomBytes(60_000 + Math.floor(next() * 180_000)));
    }
    writeFileSync(stamp, '');
  }
  const { bytes, files } = treeSize(pmsDir);
  return { pmsDir, bytes, files };
}

function infoXml(i: number): string {
  const title = `Title ${i}`;
  return `<?xml version="1.0" encoding="utf-8"?>\n<Movie ratingKey="${i}" guid="plex://movie/${(i * 7919).toString(16)}" title="${title}" year="${1950 + (i % 75)}">\n${Array.from({ length: 12 }, (_, k) => `  <Genre tag="Genre ${(i + k) % 31}" />\n  <Role tag="Actor ${(i * 13 + k) % 5000}" role="Character ${k}" />`).join('\n')}\n  <Summary>${'A story about people and places. '.repeat(8)}</Summary>\n</Movie>\n`;
}

/** Bytes and files under a folder. */
export function treeSize(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    files += 1;
    bytes += statSync(join(entry.parentPath, entry.name)).size;
  }
  return { bytes, files };
}
