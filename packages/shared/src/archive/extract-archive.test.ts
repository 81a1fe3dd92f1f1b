import { execFileSync } from 'node:child_process';
import {
  createReadStream,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { create } from 'tar';
import { extractArchive } from './extract-archive.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function workspace() {
  const dir = mkdtempSync(join(tmpdir(), 'extract-test-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'source', 'Metadata'), { recursive: true });
  writeFileSync(join(dir, 'source', 'Metadata', 'poster.jpg'), 'poster');
  writeFileSync(join(dir, 'source', 'library.db'), 'db');
  return dir;
}

/** A .tar.zst of `entries` taken from `cwd` (paths kept as given, `..` and `/` included). */
async function archive(dir: string, cwd: string, entries: string[], gnuTar = false): Promise<string> {
  const tarFile = join(dir, 'archive.tar');
  // node-tar will not archive a device; GNU tar will, as an attacker's tool would.
  if (gnuTar) execFileSync('tar', ['-C', cwd, '-cf', tarFile, ...entries]);
  else await create({ cwd, file: tarFile, preservePaths: true, portable: true }, entries);
  execFileSync('zstd', ['-q', '-f', tarFile, '-o', `${tarFile}.zst`]);
  return `${tarFile}.zst`;
}

describe('extractArchive', () => {
  it('unpacks plain files and folders', async () => {
    const dir = workspace();
    const file = await archive(dir, join(dir, 'source'), ['Metadata', 'library.db']);
    const result = await extractArchive(createReadStream(file), join(dir, 'target'));
    expect(result).toEqual({ files: 2, bytes: 8 });
    expect(readFileSync(join(dir, 'target', 'Metadata', 'poster.jpg'), 'utf8')).toBe('poster');
  });

  it.each([
    [
      'a path with ..',
      (dir: string) => {
        writeFileSync(join(dir, 'outside.txt'), 'x');
        return { cwd: join(dir, 'source'), entries: ['../outside.txt'] };
      },
      /"\.\.\/outside\.txt" refused: path leaves the target folder/,
    ],
    ['an absolute path', (dir: string) => ({ cwd: '/', entries: [join(dir, 'source', 'library.db')] }), /refused: absolute path/],
    [
      'a symbolic link',
      (dir: string) => {
        symlinkSync('/etc/passwd', join(dir, 'source', 'passwd'));
        return { cwd: join(dir, 'source'), entries: ['library.db', 'passwd'] };
      },
      /"passwd" refused: symbolic link/,
    ],
    [
      'a hard link',
      (dir: string) => {
        linkSync(join(dir, 'source', 'library.db'), join(dir, 'source', 'copy.db'));
        return { cwd: join(dir, 'source'), entries: ['library.db', 'copy.db'], gnuTar: true };
      },
      /"copy\.db" refused: hard link/,
    ],
    ['a device', () => ({ cwd: '/dev', entries: ['null'], gnuTar: true }), /"null" refused: CharacterDevice entry/],
  ])('refuses %s and writes nothing outside the target', async (_, make, message) => {
    const dir = workspace();
    const { cwd, entries, gnuTar } = make(dir) as { cwd: string; entries: string[]; gnuTar?: boolean };
    const file = await archive(dir, cwd, entries, gnuTar);
    await expect(extractArchive(createReadStream(file), join(dir, 'target', 'inner'))).rejects.toMatchObject({
      code: 'SAFETY_STOP',
      message: expect.stringMatching(message),
    });
    expect(existsSync(join(dir, 'target', 'outside.txt'))).toBe(false);
    expect(existsSync(join(dir, 'target', 'inner', 'passwd'))).toBe(false);
  });

  it('keeps empty files and modification times', async () => {
    const dir = workspace();
    writeFileSync(join(dir, 'source', 'Metadata', 'empty'), '');
    utimesSync(join(dir, 'source', 'library.db'), new Date('2024-05-01T10:00:00Z'), new Date('2024-05-01T10:00:00Z'));
    const file = await archive(dir, join(dir, 'source'), ['Metadata', 'library.db']);
    expect(await extractArchive(createReadStream(file), join(dir, 'target'))).toEqual({ files: 3, bytes: 8 });
    expect(statSync(join(dir, 'target', 'Metadata', 'empty')).size).toBe(0);
    expect(statSync(join(dir, 'target', 'library.db')).mtime.toISOString()).toBe('2024-05-01T10:00:00.000Z');
  });

  it('follows no symbolic link already in the target, for a folder or a file', async () => {
    const dir = workspace();
    const file = await archive(dir, join(dir, 'source'), ['Metadata', 'library.db']);
    mkdirSync(join(dir, 'elsewhere'));
    mkdirSync(join(dir, 'target'));
    symlinkSync(join(dir, 'elsewhere'), join(dir, 'target', 'Metadata'));
    await expect(extractArchive(createReadStream(file), join(dir, 'target'))).rejects.toMatchObject({
      code: 'SAFETY_STOP',
      message: expect.stringMatching(/Metadata" goes through something that is not a folder \(a symbolic link\)/),
    });
    expect(readdirSync(join(dir, 'elsewhere'))).toEqual([]);

    rmSync(join(dir, 'target'), { recursive: true });
    mkdirSync(join(dir, 'target'));
    symlinkSync(join(dir, 'elsewhere', 'db'), join(dir, 'target', 'library.db'));
    await expect(extractArchive(createReadStream(file), join(dir, 'target'))).rejects.toMatchObject({ code: 'SAFETY_STOP' });
    expect(existsSync(join(dir, 'elsewhere', 'db'))).toBe(false);
  });

  it('reports a damaged archive', async () => {
    const dir = workspace();
    writeFileSync(join(dir, 'junk.zst'), 'not zstd at all');
    await expect(extractArchive(createReadStream(join(dir, 'junk.zst')), join(dir, 'target'))).rejects.toMatchObject({ code: 'SAFETY_STOP' });
  });
});
