import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterEach, describe, expect, it } from 'vitest';
import { extractArchive } from './extract-archive.js';
import { archiveEntries, createPlexArchive } from './plex-archive.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function plexDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'plex-archive-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'Plug-in Support', 'Databases'), { recursive: true });
  writeFileSync(join(dir, 'Plug-in Support', 'Databases', 'com.plexapp.plugins.library.db'), randomBytes(50_000));
  mkdirSync(join(dir, 'Metadata', 'Movies'), { recursive: true });
  writeFileSync(join(dir, 'Metadata', 'Movies', 'poster.jpg'), randomBytes(20_000));
  writeFileSync(join(dir, 'Preferences.xml'), '<Preferences PlexOnlineToken="secret"/>');
  mkdirSync(join(dir, 'Logs'));
  writeFileSync(join(dir, 'Logs', 'Plex Media Server.log'), 'log');
  return dir;
}

describe('createPlexArchive', () => {
  it('holds the DBs, Metadata and Media only: no Preferences.xml, no logs', async () => {
    const dir = plexDir();
    expect(archiveEntries(dir)).toEqual(['Metadata', join('Plug-in Support', 'Databases', 'com.plexapp.plugins.library.db')]);
    const archive = createPlexArchive(dir);
    const target = join(dir, 'out');
    await Promise.all([extractArchive(archive.stream, target), archive.finished]);
    expect(readFileSync(join(target, 'Metadata', 'Movies', 'poster.jpg'))).toEqual(readFileSync(join(dir, 'Metadata', 'Movies', 'poster.jpg')));
  });

  it("is whole when read only after the compressor has exited (Node drops an exited child's unread output)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plex-archive-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'Metadata', 'Movies'), { recursive: true });
    writeFileSync(join(dir, 'Metadata', 'Movies', 'poster.jpg'), randomBytes(2_000));
    const archive = createPlexArchive(dir);
    // Small enough for the pipe: tar and zstd write it all and exit before anyone reads.
    await archive.finished;
    const data = await buffer(archive.stream);
    expect(data.length).toBeGreaterThan(2_000);
    await extractArchive(Readable.from([data]), join(dir, 'late'));
    expect(readFileSync(join(dir, 'late', 'Metadata', 'Movies', 'poster.jpg')).length).toBe(2_000);
  });
});
