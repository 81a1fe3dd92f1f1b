import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { buffer } from 'node:stream/consumers';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractArchive, PLEX_LIBRARY_ENTRIES } from '@plexlift/shared/archive';
import { DATABASES_DIR, MAIN_DB_NAME } from '@plexlift/shared/plex-db';
import { createHomeSnapshot } from '../../packages/controller/src/transfers/home-snapshot.js';
import { generateLibrary } from '../utils/library-generator.js';
import { createTempDir } from '../utils/temp-dir.js';

/** A home Plex folder (a real library DB) whose Metadata/ the admin moved to another disk, leaving a link. */
function homeWithLinkedMetadata() {
  const root = createTempDir();
  const pms = join(root, 'Plex Media Server');
  const databases = join(pms, DATABASES_DIR);
  mkdirSync(databases, { recursive: true });
  const library = generateLibrary({ dir: join(root, 'generated'), size: 'small' });
  renameSync(library.mainDb, join(databases, MAIN_DB_NAME));
  const moved = join(root, 'other disk', 'plex metadata [1]'); // spaces and brackets: tar's --transform must take them literally
  mkdirSync(join(moved, 'Movies', 'a', 'b.bundle'), { recursive: true });
  writeFileSync(join(moved, 'Movies', 'a', 'b.bundle', 'poster.jpg'), 'poster');
  symlinkSync(moved, join(pms, 'Metadata'));
  mkdirSync(join(pms, 'Media', 'localhost'), { recursive: true });
  writeFileSync(join(pms, 'Media', 'localhost', 'index.bif'), 'bif');
  return { root, pms, moved };
}

// Issue 16, item 22: a bundle root that is itself a link must not fail the job on the VM.
describe('the home snapshot and a bundle root that is a link', () => {
  it('follows the link of Metadata/ itself: the VM extracts a folder named Metadata with its files', async () => {
    const { root, pms } = homeWithLinkedMetadata();
    const snapshot = await createHomeSnapshot(pms, join(root, 'work'), { bundles: true });
    const target = join(root, 'vm');
    // The agent's own extraction, which refuses links.
    await Promise.all([extractArchive(snapshot.stream, target, { allow: PLEX_LIBRARY_ENTRIES }), snapshot.finished]);
    expect(readFileSync(join(target, 'Metadata', 'Movies', 'a', 'b.bundle', 'poster.jpg'), 'utf8')).toBe('poster');
    expect(readFileSync(join(target, 'Media', 'localhost', 'index.bif'), 'utf8')).toBe('bif');
    expect(existsSync(join(target, DATABASES_DIR, MAIN_DB_NAME))).toBe(true);
  });

  it('follows only the root: a link inside Metadata/ stays a link (never followed out of the Plex folder)', async () => {
    const { root, pms, moved } = homeWithLinkedMetadata();
    const outside = join(root, 'secret.txt');
    writeFileSync(outside, 'not for the VM');
    symlinkSync(outside, join(moved, 'Movies', 'planted'));
    const snapshot = await createHomeSnapshot(pms, join(root, 'work'), { bundles: true });
    const [archive] = await Promise.all([buffer(snapshot.stream), snapshot.finished]);
    const listing = execFileSync('sh', ['-c', 'zstd -d -c | tar -tvf -'], { input: archive, encoding: 'utf8' });
    expect(listing).toMatch(/^l.* Metadata\/Movies\/planted -> .*secret\.txt$/m);
    expect(listing).toMatch(/^d.* Metadata\/$/m);
    expect(listing).not.toContain('not for the VM');
    expect(listing).not.toContain('other disk'); // every member is named as home names it
  });
});
