import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { BLOBS_DB_NAME, DATABASES_DIR, MAIN_DB_NAME } from '../plex-db.js';
import { adaptiveZstd, type AdaptiveLevel } from './adaptive-zstd.js';
import { exitedCleanly } from './child-exit.js';

/**
 * What travels home, relative to `…/Plex Media Server/` (plex-api.md §6.1): `Metadata/`, `Media/`
 * and the two DBs (their WAL already folded in by plex-stop). Never `Preferences.xml` (the
 * server's identity and token), logs, caches, `.LocalAdminToken` or dated DB backups. The DBs go
 * last: they are what compresses, and by then a slow link has raised the zstd level.
 */
export function archiveEntries(pmsDir: string): string[] {
  const folders = ['Metadata', 'Media'].filter((folder) => existsSync(join(pmsDir, folder)) && readdirSync(join(pmsDir, folder)).length > 0);
  const dbs = [MAIN_DB_NAME, BLOBS_DB_NAME].map((name) => join(DATABASES_DIR, name)).filter((entry) => existsSync(join(pmsDir, entry)));
  return [...folders, ...dbs];
}

export interface PlexArchive {
  /** The tar stream compressed with zstd, produced as it is read. */
  stream: Readable;
  /** Resolves when the compressor has finished (rejects if tar or zstd failed). */
  finished: Promise<void>;
  /** The zstd level of each frame so far: it rises while the upload is slower than the compressor. */
  levels: number[];
}

/**
 * Streams the archive: GNU tar (numeric owner 0, no user or group names, symbolic links kept as
 * links: the unpacker refuses them) piped through `zstd -T0`, which uses every core, at a level
 * that rises while the reader (the link home) is the slow side (`adaptiveZstd`). Nothing is
 * staged on disk; memory stays at the pipe buffers. GNU tar, not node-tar: node-tar's packer
 * keeps a core busy and feeds zstd at a fraction of the disk's speed (bench/RESULTS.md, B1).
 */
export function createPlexArchive(pmsDir: string, options: { compression?: AdaptiveLevel; signal?: AbortSignal } = {}): PlexArchive {
  const entries = archiveEntries(pmsDir);
  const tar = spawn('tar', ['-C', pmsDir, '-c', '--numeric-owner', '--owner=0', '--group=0', '--', ...entries], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const tarDone = exitedCleanly(tar, 'tar');
  const compressed = adaptiveZstd(tar.stdout, { ...options.compression, ...(options.signal ? { signal: options.signal } : {}) });
  // The compressor gone (aborted, or failed): stop tar instead of leaving it blocked on its pipe.
  compressed.finished.catch(() => tar.kill());
  const finished = Promise.all([tarDone, compressed.finished]).then(() => undefined);
  finished.catch(() => undefined); // reported to whoever awaits `finished`, never unhandled
  return { stream: compressed.stream, finished, levels: compressed.levels };
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
