import { spawn } from 'node:child_process';
import { closeSync, constants, futimesSync, lstatSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, isAbsolute, normalize, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Parser, type ReadEntry } from 'tar';
import { PlexliftError } from '../errors.js';

export interface ExtractResult {
  files: number;
  bytes: number;
}

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

/**
 * Unpacks a zstd-compressed tar into `target`, refusing anything that could land outside it or
 * is not plain data: absolute paths, `..`, symbolic and hard links, devices, FIFOs. The first
 * such entry stops the extraction with an error naming it (the archive is not trusted just
 * because its digest matched: it may come from a compromised VM).
 *
 * node-tar parses and the entries are written here with plain synchronous calls: its own unpacker
 * makes a dozen asynchronous file-system calls per file, which on a data dir of tens of thousands
 * of small files is far slower than GNU tar (bench/RESULTS.md, B1). Nothing is followed: files
 * are opened with O_NOFOLLOW and each folder is checked to be a real folder the first time it is
 * used.
 */
export async function extractArchive(
  source: Readable,
  target: string,
  options: {
    signal?: AbortSignal;
    /** Entries the archive may hold; anything else is refused. */ allow?: { test: (path: string) => boolean; describe: string };
    /** At most this many bytes are written (a decompression bomb stops there); `describe` says why. */
    limit?: { bytes: number; describe: string };
    /** Only the files it picks are written; the others are checked like them and read through. */
    only?: (path: string) => boolean;
  } = {},
): Promise<ExtractResult> {
  mkdirSync(target, { recursive: true });
  const root = resolve(target);
  const result: ExtractResult = { files: 0, bytes: 0 };
  const folders = new Set([root]);
  let refused: PlexliftError | undefined;
  let failed: Error | undefined;
  const zstd = spawn('zstd', ['-d', '-q', '-c'], { stdio: ['pipe', 'pipe', 'pipe'], ...(options.signal ? { signal: options.signal } : {}) });
  let stderr = '';
  zstd.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

  const folder = (path: string): void => {
    if (folders.has(path)) return;
    folder(dirname(path));
    try {
      mkdirSync(path, { mode: 0o755 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const stat = lstatSync(path);
      if (!stat.isDirectory())
        throw new PlexliftError(
          'SAFETY_STOP',
          `archive path "${path}" goes through something that is not a folder${stat.isSymbolicLink() ? ' (a symbolic link)' : ''}; nothing more was extracted`,
        );
    }
    folders.add(path);
  };

  const write = (entry: ReadEntry, destination: string): void => {
    folder(dirname(destination));
    const fd = openSync(
      destination,
      constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
      ((entry.mode ?? 0o644) & 0o777) | 0o600,
    );
    let open = true;
    const close = () => {
      if (!open) return;
      open = false;
      closeSync(fd);
    };
    entry.on('data', (chunk: Buffer) => {
      if (failed || refused) return;
      if (options.limit && result.bytes + chunk.length > options.limit.bytes) {
        refused = new PlexliftError(
          'SAFETY_STOP',
          `archive entry "${entry.path}" refused: the archive unpacks to more than ${options.limit.describe}; nothing after it was extracted`,
          { details: { path: entry.path } },
        );
        close();
        // Nothing more is worth decompressing: the pipeline fails and the refusal is thrown.
        zstd.kill();
        return;
      }
      try {
        for (let written = 0; written < chunk.length;) written += writeSync(fd, chunk, written);
        result.bytes += chunk.length;
      } catch (error) {
        failed = error as Error;
        close();
      }
    });
    entry.on('end', () => {
      if (!open) return;
      try {
        if (entry.mtime) futimesSync(fd, entry.mtime, entry.mtime);
        result.files += 1;
      } finally {
        close();
      }
    });
  };

  const refuse = (entry: ReadEntry, problem: string) => {
    refused ??= new PlexliftError('SAFETY_STOP', `archive entry "${entry.path}" refused: ${problem}; nothing after it was extracted`, {
      details: { path: entry.path },
    });
  };
  const parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      // After a refusal or a failure nothing more is written; the rest is only read through.
      if (refused || failed) return entry.resume();
      const problem =
        unsafe(entry.path, entry.type, root) ?? (options.allow && !options.allow.test(entry.path) ? `not part of ${options.allow.describe}` : undefined);
      if (problem) {
        refuse(entry, problem);
        return entry.resume();
      }
      try {
        if (options.only && entry.type !== 'Directory' && !options.only(normalize(entry.path))) return entry.resume();
        const destination = resolve(root, entry.path);
        if (entry.type === 'Directory') {
          folder(destination);
          return entry.resume();
        }
        write(entry, destination);
      } catch (error) {
        failed = error as Error;
        entry.resume();
      }
    },
  });
  // node-tar skips what it cannot represent (a GNU sparse member, an unknown type, an oversized
  // header) without a word, and the rest would install: each is refused, named.
  parser.on('ignoredEntry', (entry: ReadEntry) => refuse(entry, `${entry.type} entry (only plain files and folders are accepted)`));
  const zstdExit = new Promise<number | null>((resolveExit) => zstd.once('close', resolveExit));
  try {
    await Promise.all([pipeline(source, zstd.stdin), pipeline(zstd.stdout, parser)]);
  } catch (error) {
    if (refused) throw refused;
    // The source's own verdict (a digest mismatch, a refused token) is the better message.
    if (error instanceof PlexliftError) throw error;
    throw new PlexliftError('SAFETY_STOP', `archive could not be extracted: ${(error as Error).message}${stderr ? ` (${stderr.trim()})` : ''}`, {
      cause: error,
    });
  }
  const code = await zstdExit;
  if (refused) throw refused;
  if (failed)
    throw failed instanceof PlexliftError ? failed : new PlexliftError('SAFETY_STOP', `archive could not be extracted: ${failed.message}`, { cause: failed });
  if (code !== 0) throw new PlexliftError('SAFETY_STOP', `archive could not be decompressed: ${stderr.trim() || `zstd exited with ${code}`}`);
  return result;
}

function unsafe(path: string, type: string | undefined, root: string): string | undefined {
  if (isAbsolute(path)) return 'absolute path';
  if (normalize(path).split(sep).includes('..')) return 'path leaves the target folder';
  const destination = resolve(root, path);
  if (destination !== root && !destination.startsWith(root + sep)) return 'path leaves the target folder';
  // A POSIX (pax) sparse member looks like a plain file named `…/GNUSparseFile.<pid>/<name>` whose
  // content is the sparse map, not the data.
  if (path.split('/').some((part) => /^GNUSparseFile\.\d+$/.test(part))) return 'GNU sparse file (only plain files and folders are accepted)';
  if (type === 'SymbolicLink') return 'symbolic link';
  if (type === 'Link') return 'hard link';
  if (type && type !== 'Directory' && !FILE_TYPES.has(type)) return `${type} entry`;
  return undefined;
}
