import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { PlexliftError } from '@plexlift/shared';
import { formatBytes, freeBytes } from '@plexlift/shared/plex-db';
import { archiveEntries, createPlexArchive } from '@plexlift/shared/archive';
import { lastStderrLine } from '@plexlift/shared/process';

export interface HeldArchive {
  path: string;
  bytes: number;
  sha256: string;
}

/**
 * The archive kept on the VM while home cannot be reached (DESIGN.md, "State"): written once,
 * next to a `.sha256` file, and renamed into place only when complete, so a held archive is
 * always whole. A second call finds it and does not write it again.
 */
export async function holdArchive(pmsDir: string, folder: string, name: string, options: { signal?: AbortSignal } = {}): Promise<HeldArchive> {
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const path = join(folder, `${name}.tar.zst`);
  const digestPath = `${path}.sha256`;
  if (existsSync(path) && existsSync(digestPath)) {
    return { path, bytes: statSync(path).size, sha256: readFileSync(digestPath, 'utf8').split(/\s/)[0]! };
  }
  const needed = entriesBytes(pmsDir);
  const free = freeBytes(folder);
  if (free < needed) {
    throw new PlexliftError(
      'DISK_FULL',
      `cannot keep the archive on the VM: ${folder} has ${formatBytes(free)} free and the library may need up to ${formatBytes(needed)}`,
      {
        details: { folder, free, needed },
      },
    );
  }
  const hash = createHash('sha256');
  let bytes = 0;
  const partial = `${path}.partial`;
  const archive = createPlexArchive(pmsDir, options.signal ? { signal: options.signal } : {});
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  await Promise.all([pipeline(archive.stream, count, createWriteStream(partial, { mode: 0o600 })), archive.finished]);
  const sha256 = hash.digest('hex');
  writeFileSync(digestPath, `${sha256}  ${name}.tar.zst\n`);
  renameSync(partial, path);
  return { path, bytes, sha256 };
}

/**
 * Copies a held archive and its digest to the user's bucket (an rclone remote path, with the
 * job's rclone config), so the controller can fetch it even if the VM is gone.
 */
export async function copyHeldArchive(held: HeldArchive, remote: string, configPath: string | undefined, signal?: AbortSignal): Promise<string> {
  const target = `${remote.replace(/\/+$/, '')}/${held.path.split('/').at(-1)!}`;
  const config = configPath ? ['--config', configPath] : [];
  const run = promisify(execFile);
  try {
    for (const [from, to] of [
      [held.path, target],
      [`${held.path}.sha256`, `${target}.sha256`],
    ] as const) {
      await run('rclone', ['copyto', from, to, ...config, '--retries', '3'], { ...(signal ? { signal } : {}) });
    }
  } catch (error) {
    // rclone's stderr names the remote and the reason, never the credentials.
    throw new PlexliftError('CONTROLLER_UNREACHABLE', `could not copy the archive to ${remote}: ${lastStderrLine(error)}`);
  }
  return target;
}

/** The uncompressed size of what the archive holds: more than it will take, so a safe bound. */
function entriesBytes(pmsDir: string): number {
  let total = 0;
  for (const entry of archiveEntries(pmsDir)) {
    const root = join(pmsDir, entry);
    const stats = statSync(root);
    if (!stats.isDirectory()) total += stats.size;
    else
      for (const file of readdirSync(root, { recursive: true, withFileTypes: true }))
        if (file.isFile()) total += statSync(join(file.parentPath, file.name)).size;
  }
  return total;
}
