import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
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
 * Streams the archive: GNU tar (numeric owner 0, no user or group names, symbolic links kept as
 * links: the unpacker refuses them) piped through `zstd -T0`, which uses every core. Nothing is
 * staged on disk; memory stays at the pipe buffers. GNU tar, not node-tar: node-tar's packer kept
 * a core busy and fed zstd at a fraction of the disk's speed (bench B1).
 */
export function createPlexArchive(pmsDir: string, options: { level?: number; signal?: AbortSignal } = {}): PlexArchive {
  const entries = archiveEntries(pmsDir);
  const spawnOptions = options.signal ? { signal: options.signal } : {};
  const tar = spawn('tar', ['-C', pmsDir, '-c', '--numeric-owner', '--owner=0', '--group=0', '--', ...entries], { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOptions });
  const zstd = spawn('zstd', ['-T0', `-${options.level ?? 3}`, '-q', '-c'], { stdio: ['pipe', 'pipe', 'pipe'], ...spawnOptions });
  const done = (child: ChildProcess, name: string) => {
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4096)));
    return new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${name} exited with ${signal ?? code}: ${stderr.trim()}`))));
    });
  };
  const tarDone = done(tar, 'tar');
  const zstdDone = done(zstd, 'zstd');
  tar.stdout.pipe(zstd.stdin);
  // zstd gone (aborted, or failed): stop tar instead of failing on EPIPE.
  zstd.stdin.on('error', () => tar.kill());
  const finished = Promise.all([tarDone, zstdDone]).then(() => undefined);
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
