import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { buffer } from 'node:stream/consumers';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractArchive, PLEX_LIBRARY_ENTRIES } from '@plexlift/shared/archive';
import { DATABASES_DIR, MAIN_DB_NAME } from '@plexlift/shared/plex-db';
import { createHomeSnapshot } from '../../packages/controller/src/transfers/home-snapshot.js';
import { generateLibrary } from '../utils/library-generator.js';
import { createTempDir } from '../utils/temp-dir.js';

/** The home Plex's user: not root, as on a real server (the tests run as root). */
const PLEX_UID = 1000;

/** A home Plex folder of the Plex user (a real library DB) whose Metadata/ the admin moved to another disk, leaving a link. */
function homeWithLinkedMetadata(options: { movedOwner?: number } = {}) {
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
  chownSync(pms, PLEX_UID, PLEX_UID);
  chownSync(moved, options.movedOwner ?? PLEX_UID, options.movedOwner ?? PLEX_UID);
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

  it('refuses a link to a folder the Plex user does not own (root reads it), naming home.plexDataDir and the link; nothing is archived', async () => {
    const { root, pms, moved } = homeWithLinkedMetadata({ movedOwner: 0 });
    const work = join(root, 'work');
    const snapshot = createHomeSnapshot(pms, work, { bundles: true });
    await expect(snapshot).rejects.toMatchObject({ code: 'SAFETY_STOP', details: { field: 'home.plexDataDir', path: join(pms, 'Metadata'), real: moved } });
    await expect(snapshot).rejects.toThrow(/^home\.plexDataDir: .*Plex Media Server\/Metadata is a link to .*, which belongs to uid 0, not the Plex user/);
  });

  it("refuses a link into a system folder even when the Plex folder is root's", async () => {
    const { root, pms } = homeWithLinkedMetadata();
    chownSync(pms, 0, 0);
    const link = join(pms, 'Metadata');
    execFileSync('rm', [link]);
    symlinkSync('/etc', link);
    await expect(createHomeSnapshot(pms, join(root, 'work'), { bundles: true })).rejects.toThrow(
      /^home\.plexDataDir: .*Metadata is a link to \/etc, which is inside \/etc/,
    );
  });

  it("refuses a link to the daemon's state folder, to the Plex folder's parent, and to a folder anyone can write to", async () => {
    const { root, pms, moved } = homeWithLinkedMetadata();
    const link = join(pms, 'Metadata');
    const relink = (target: string) => {
      execFileSync('rm', [link]);
      symlinkSync(target, link);
    };
    const snapshotOf = (stateDir?: string) => createHomeSnapshot(pms, join(root, 'work'), { bundles: true, stateDir });
    await expect(snapshotOf(moved)).rejects.toThrow(/which is inside .*plex metadata \[1\]; plexlift follows/);
    await expect(snapshotOf(join(moved, 'Movies'))).rejects.toThrow(/which holds .*Movies; plexlift follows/);
    relink(root);
    chownSync(root, PLEX_UID, PLEX_UID);
    await expect(snapshotOf()).rejects.toThrow(/which holds .*Plex Media Server/); // its Preferences.xml holds the owner's token
    relink(moved);
    chmodSync(moved, 0o777);
    await expect(snapshotOf()).rejects.toThrow(/which anyone can write to/);
  });

  it("follows a link to a folder of home.owner when the Plex folder itself is root's", async () => {
    const { root, pms } = homeWithLinkedMetadata();
    chownSync(pms, 0, 0);
    await expect(createHomeSnapshot(pms, join(root, 'work-root'), { bundles: true })).rejects.toThrow(/belongs to uid 1000, not the Plex user/);
    const snapshot = await createHomeSnapshot(pms, join(root, 'work'), { bundles: true, owner: { uid: PLEX_UID, gid: PLEX_UID } });
    const [archive] = await Promise.all([buffer(snapshot.stream), snapshot.finished]);
    expect(execFileSync('sh', ['-c', 'zstd -d -c | tar -tf -'], { input: archive, encoding: 'utf8' })).toContain('Metadata/Movies/a/b.bundle/poster.jpg');
  });

  it('reads the folder it checked: a folder swapped in on the path once checked is not what the VM gets', async () => {
    const { root, pms } = homeWithLinkedMetadata();
    const snapshot = await createHomeSnapshot(pms, join(root, 'work'), { bundles: true });
    // The Plex user swaps the disk folder for one of its own making, right as tar starts.
    renameSync(join(root, 'other disk'), join(root, 'old disk'));
    mkdirSync(join(root, 'other disk', 'plex metadata [1]'), { recursive: true });
    writeFileSync(join(root, 'other disk', 'plex metadata [1]', 'swapped.txt'), 'swapped');
    const [archive] = await Promise.all([buffer(snapshot.stream), snapshot.finished]);
    const listing = execFileSync('sh', ['-c', 'zstd -d -c | tar -tf -'], { input: archive, encoding: 'utf8' });
    expect(listing).toContain('Metadata/Movies/a/b.bundle/poster.jpg');
    expect(listing).not.toContain('swapped.txt');
  });
});
