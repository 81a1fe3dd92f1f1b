import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it, onTestFinished } from 'vitest';
import { extractArchive } from '@plexlift/shared/archive';
import { backupDatabase, MAIN_DB_NAME } from '@plexlift/shared/plex-db';
import { downloadArchive } from '../../packages/agent/src/download.js';
import { createPlexArchive } from '../../packages/agent/src/plex-archive.js';
import { generateLibrary } from '../utils/library-generator.js';
import { startTransferHome } from '../utils/transfer-home.js';
import { createTempDir } from '../utils/temp-dir.js';

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** What the controller publishes for a delta job: a consistent snapshot of the home DBs, archived. */
async function publishSnapshot() {
  const dir = createTempDir();
  const library = generateLibrary({ dir: join(dir, 'home'), size: 'small' });
  const pms = join(dir, 'snapshot', 'Plex Media Server');
  mkdirSync(join(pms, 'Plug-in Support', 'Databases'), { recursive: true });
  await backupDatabase(library.mainDb, join(pms, 'Plug-in Support', 'Databases', MAIN_DB_NAME));
  const archive = createPlexArchive(pms);
  const file = join(dir, 'snapshot.tar.zst');
  await Promise.all([pipeline(archive.stream, createWriteStream(file)), archive.finished]);
  const home = await startTransferHome(join(dir, 'transfers'), 'session-token');
  onTestFinished(() => home.close());
  await home.publish('job-1-restore', file, 48 * 1024);
  return { home, snapshotDb: join(pms, 'Plug-in Support', 'Databases', MAIN_DB_NAME), dir };
}

describe('restore', () => {
  it('downloads the snapshot chunk by chunk and unpacks DBs byte-identical to it', async () => {
    const { home, snapshotDb, dir } = await publishSnapshot();
    const progress: number[] = [];
    const target = join(dir, 'vm', 'Plex Media Server');
    await extractArchive(downloadArchive({ baseUrl: home.url, transferId: 'job-1-restore', token: 'session-token', onProgress: (p) => progress.push(p.chunks) }), target);
    expect(sha(join(target, 'Plug-in Support', 'Databases', MAIN_DB_NAME))).toBe(sha(snapshotDb));
    expect(progress.length).toBeGreaterThan(1);
  });

  it('fetches again a chunk that arrives damaged', async () => {
    const { home, snapshotDb, dir } = await publishSnapshot();
    home.corruptNext(2);
    const target = join(dir, 'vm', 'Plex Media Server');
    await extractArchive(downloadArchive({ baseUrl: home.url, transferId: 'job-1-restore', token: 'session-token' }), target);
    expect(sha(join(target, 'Plug-in Support', 'Databases', MAIN_DB_NAME))).toBe(sha(snapshotDb));
  });

  it('refuses a transfer that is not complete, and a refused token', async () => {
    const { home, dir } = await publishSnapshot();
    await expect(extractArchive(downloadArchive({ baseUrl: home.url, transferId: 'job-2-restore', token: 'session-token' }), join(dir, 'x'))).rejects.toMatchObject({ code: 'CONTROLLER_UNREACHABLE', message: expect.stringMatching(/no complete snapshot job-2-restore/) });
    await expect(extractArchive(downloadArchive({ baseUrl: home.url, transferId: 'job-1-restore', token: 'wrong' }), join(dir, 'y'))).rejects.toMatchObject({ code: 'AUTH_REFUSED' });
  });
});
