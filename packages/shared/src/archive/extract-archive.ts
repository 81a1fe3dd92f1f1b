import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { isAbsolute, normalize, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, type ReadEntry } from 'tar';
import { PlexliftError } from '../errors.js';

export interface ExtractResult {
  files: number;
  bytes: number;
}

/**
 * Unpacks a zstd-compressed tar into `target`, refusing anything that could land outside it or
 * is not plain data: absolute paths, `..`, symbolic and hard links, devices, FIFOs. The first
 * such entry stops the extraction with an error naming it (the archive is not trusted just
 * because its digest matched: it may come from a compromised VM).
 */
export async function extractArchive(
  source: Readable,
  target: string,
  options: { signal?: AbortSignal; /** Entries the archive may hold; anything else is refused. */ allow?: { test: (path: string) => boolean; describe: string } } = {},
): Promise<ExtractResult> {
  mkdirSync(target, { recursive: true });
  const root = resolve(target);
  const result: ExtractResult = { files: 0, bytes: 0 };
  let refused: PlexliftError | undefined;
  const zstd = spawn('zstd', ['-d', '-q', '-c'], { stdio: ['pipe', 'pipe', 'pipe'], ...(options.signal ? { signal: options.signal } : {}) });
  let stderr = '';
  zstd.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const unpack = extract({
    cwd: root,
    strict: true,
    preservePaths: false,
    preserveOwner: false,
    filter: (path: string, entry: ReadEntry | { type?: string; size?: number }) => {
      // After a refusal nothing more is written; the rest is only read through.
      if (refused) return false;
      const problem = unsafe(path, (entry as ReadEntry).type, root) ?? (options.allow && !options.allow.test(path) ? `not part of ${options.allow.describe}` : undefined);
      if (problem) {
        refused = new PlexliftError('SAFETY_STOP', `archive entry "${path}" refused: ${problem}; nothing after it was extracted`, { details: { path } });
        return false;
      }
      if ((entry as ReadEntry).type === 'File') {
        result.files += 1;
        result.bytes += (entry as ReadEntry).size ?? 0;
      }
      return true;
    },
  });
  const zstdExit = new Promise<number | null>((resolveExit) => zstd.once('close', resolveExit));
  try {
    await Promise.all([pipeline(source, zstd.stdin), pipeline(zstd.stdout, unpack)]);
  } catch (error) {
    if (refused) throw refused;
    // The source's own verdict (a digest mismatch, a refused token) is the better message.
    if (error instanceof PlexliftError) throw error;
    throw new PlexliftError('SAFETY_STOP', `archive could not be extracted: ${(error as Error).message}${stderr ? ` (${stderr.trim()})` : ''}`, { cause: error });
  }
  const code = await zstdExit;
  if (refused) throw refused;
  if (code !== 0) throw new PlexliftError('SAFETY_STOP', `archive could not be decompressed: ${stderr.trim() || `zstd exited with ${code}`}`);
  return result;
}

function unsafe(path: string, type: string | undefined, root: string): string | undefined {
  if (isAbsolute(path)) return 'absolute path';
  if (normalize(path).split(sep).includes('..')) return 'path leaves the target folder';
  const destination = resolve(root, path);
  if (destination !== root && !destination.startsWith(root + sep)) return 'path leaves the target folder';
  if (type === 'SymbolicLink') return 'symbolic link';
  if (type === 'Link') return 'hard link';
  if (type && !['File', 'OldFile', 'ContiguousFile', 'Directory'].includes(type)) return `${type} entry`;
  return undefined;
}
