import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { create } from 'tar';
import { BLOBS_DB_NAME, MAIN_DB_NAME } from '../plex-db.js';

/**
 * What travels home, relative to `…/Plex Media Server/` (plex-api.md §6.1): the two DBs (their
 * WAL already folded in by plex-stop), `Metadata/` and `Media/`. Never `Preferences.xml` (the
 * server's identity and token), logs, caches, `.LocalAdminToken` or dated DB backups.
 */
export function archiveEntries(pmsDir: string): string[] {
  const databases = join('Plug-in Support', 'Databases');
  const entries = [MAIN_DB_NAME, BLOBS_DB_NAME].map((name) => join(databases, name)).filter((entry) => existsSync(join(pmsDir, entry)));
  for (const folder of ['Metadata', 'Media']) if (existsSync(join(pmsDir, folder)) && readdirSync(join(pmsDir, folder)).length > 0) entries.push(folder);
  return entries;
}

export interface PlexArchive {
  /** The tar stream compressed with zstd, produced as it is read. */
  stream: Readable;
  /** Resolves when the compressor has finished (rejects if tar or zstd failed). */
  finished: Promise<void>;
}

/**
 * Streams the archive: tar (portable headers, no owner names) piped through `zstd -T0`, which
 * uses every core. Nothing is staged on disk; memory stays at the pipe buffers.
 */
export function createPlexArchive(pmsDir: string, options: { level?: number; signal?: AbortSignal } = {}): PlexArchive {
  const entries = archiveEntries(pmsDir);
  const zstd = spawn('zstd', ['-T0', `-${options.level ?? 3}`, '-q', '-c'], { stdio: ['pipe', 'pipe', 'pipe'], ...(options.signal ? { signal: options.signal } : {}) });
  let stderr = '';
  zstd.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const tar = create({ cwd: pmsDir, portable: true, follow: false }, entries);
  const stopTar = () => {
    tar.unpipe(zstd.stdin);
    tar.destroy();
  };
  options.signal?.addEventListener('abort', stopTar, { once: true });
  const tarDone = new Promise<void>((resolve, reject) => {
    // `on`, not `once`: a tar walking a folder that vanishes can fail more than once.
    tar.on('error', reject);
    tar.once('end', resolve);
  });
  tar.pipe(zstd.stdin);
  // zstd gone (aborted, or failed): stop tar instead of crashing on EPIPE.
  const stdinClosed = new Promise<void>((resolve, reject) => {
    zstd.stdin.once('error', (error) => {
      stopTar();
      reject(error);
    });
    zstd.stdin.once('finish', resolve);
  });
  const zstdDone = new Promise<void>((resolve, reject) => {
    zstd.once('error', reject);
    zstd.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`zstd exited with ${code}: ${stderr.trim()}`))));
  });
  const finished = Promise.all([tarDone, zstdDone, stdinClosed]).then(() => undefined);
  finished.catch(() => undefined); // reported to whoever awaits `finished`, never unhandled
  return { stream: heldOutput(zstd.stdout), finished };
}

/**
 * A child's stdout that keeps its data until read. Node resumes (and so discards) the unread
 * stdout of a child that exits (`flushStdio`): a compressor that finishes before its reader
 * starts — the upload waiting for home to answer — would hand over an empty archive. Piped at
 * once, the data waits in the PassThrough, and backpressure still holds the compressor.
 */
export function heldOutput(stdout: Readable): Readable {
  const held = new PassThrough();
  stdout.pipe(held);
  stdout.once('error', (error) => held.destroy(error));
  return held;
}
