import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractArchive, PLEX_LIBRARY_ENTRIES } from '@plexlift/shared/archive';
import { MAX_EXPANSION } from '../../packages/controller/src/install/extract-cap.js';
import { installArchive } from '../../packages/controller/src/install/home-install.js';
import { homeInstallOptions } from '../utils/home-install-options.js';
import { libraryFingerprint } from '../utils/home-plex.js';
import { startHomePlex } from '../utils/home-plex-fixture.js';
import { createTempDir } from '../utils/temp-dir.js';

/** `Metadata/` holding `name` (written by `write`), archived by GNU tar with `flags`, zstd-compressed. */
function archiveOf(name: string, write: (path: string) => void, flags: string[]): string {
  const dir = createTempDir('members-');
  mkdirSync(join(dir, 'stage', 'Metadata'), { recursive: true });
  write(join(dir, 'stage', 'Metadata', name));
  execFileSync('tar', ['-C', join(dir, 'stage'), ...flags, '-cf', join(dir, 'a.tar'), 'Metadata']);
  execFileSync('zstd', ['-q', join(dir, 'a.tar'), '-o', join(dir, 'a.tar.zst')]);
  return join(dir, 'a.tar.zst');
}

const sparse = (path: string) => {
  writeFileSync(path, '');
  execFileSync('truncate', ['-s', '8M', path]);
  writeFileSync(path, 'end', { flag: 'a' });
};

// Issue 16, item 25: node-tar skipped a GNU sparse member without a word, and the rest installed.
describe('only plain files and folders are extracted', () => {
  it.each([
    [
      'a GNU sparse member',
      ['--format=gnu', '--sparse'],
      /archive entry "Metadata\/poster\.jpg" refused: SparseFile entry \(only plain files and folders are accepted\)/,
    ],
    [
      'a POSIX sparse member',
      ['--format=posix', '--sparse', '--sparse-version=1.0'],
      /archive entry "Metadata\/GNUSparseFile\.\d+\/poster\.jpg" refused: GNU sparse file \(only plain files and folders are accepted\)/,
    ],
  ])('%s is refused, named', async (_, flags, message) => {
    const target = createTempDir('target-');
    await expect(extractArchive(createReadStream(archiveOf('poster.jpg', sparse, flags)), target, { allow: PLEX_LIBRARY_ENTRIES })).rejects.toMatchObject({
      code: 'SAFETY_STOP',
      message: expect.stringMatching(message),
    });
    expect(existsSync(join(target, 'Metadata', 'poster.jpg'))).toBe(false);
  });
});

// Issue 16, item 7: 132 KB once unpacked to 4 GiB of zeros and filled the disk.
describe('a decompression bomb stops at its cap', () => {
  const zeros = (size: string) => (path: string) => execFileSync('truncate', ['-s', size, path]);

  it('extraction stops once the limit is reached, naming the entry and the limit', async () => {
    const target = createTempDir('target-');
    const file = archiveOf('zeros.bin', zeros('32M'), []);
    await expect(extractArchive(createReadStream(file), target, { limit: { bytes: 2 ** 20, describe: '1 MiB (a test)' } })).rejects.toMatchObject({
      code: 'SAFETY_STOP',
      message: expect.stringMatching(/archive entry "Metadata\/zeros\.bin" refused: the archive unpacks to more than 1 MiB \(a test\)/),
    });
    expect(statSync(join(target, 'Metadata', 'zeros.bin')).size).toBeLessThanOrEqual(2 ** 20);
  });

  it('the home install caps an archive at a ratio to its size: refused before Plex stops', async () => {
    const home = await startHomePlex();
    const archive = archiveOf('zeros.bin', zeros('96M'), []);
    const archiveBytes = statSync(archive).size;
    expect(archiveBytes * MAX_EXPANSION).toBeLessThan(64 * 2 ** 20);
    const before = libraryFingerprint(home.paths.pms);
    const options = {
      ...homeInstallOptions({ pmsDir: home.paths.pms, control: home.control, url: home.url }, archive, { startTimeoutMs: 4_000 }),
      archiveBytes,
    };
    await expect(installArchive(options)).rejects.toMatchObject({
      code: 'SAFETY_STOP',
      message: expect.stringMatching(/archive entry "Metadata\/zeros\.bin" refused: the archive unpacks to more than 64\.0 MiB \(1000 times the archive's/),
    });
    expect(home.calls).toEqual([]);
    expect(libraryFingerprint(home.paths.pms)).toEqual(before);
    expect(existsSync(options.stagingDir) ? readdirSync(options.stagingDir) : []).toEqual([]);
  });
});
