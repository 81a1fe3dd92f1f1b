import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createPlexArchive } from '@plexlift/shared/archive';
import { uploadArchive } from '../../packages/agent/src/home/upload-archive.js';
import { startTestSim } from '../plex-sim/sim-fixture.js';
import { startTransferHome } from '../utils/transfer-home.js';
import { createTempDir } from '../utils/temp-dir.js';

async function stoppedLibrary() {
  const { sim, media, addSection } = await startTestSim({ media: { artists: 4, albums: 3, tracks: 8 } });
  sim.runtime.preferences.set([['GenerateBIFBehavior', 'asap']]);
  const id = await addSection('Movies', 'movie', media.roots.movies);
  await addSection('Music', 'artist', media.roots.music);
  await sim.jobs.analyze(id);
  await sim.stop();
  return sim.paths;
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

function unpack(archive: string): { dir: string; files: string[] } {
  const dir = createTempDir();
  const out = join(dir, 'unpacked');
  mkdirSync(out);
  execFileSync('bash', ['-c', `zstd -d -q -c "$0" | tar -x -C "$1"`, archive, out]);
  const files = execFileSync('find', ['.', '-type', 'f'], { cwd: out, encoding: 'utf8' }).trim().split('\n').sort();
  return { dir: out, files };
}

describe('export and upload', () => {
  it('streams the DBs, Metadata/ and Media/ home in checksummed chunks, and nothing else', async () => {
    const paths = await stoppedLibrary();
    const home = await startTransferHome(createTempDir(), 'session-token');
    onTestFinished(() => home.close());
    const archive = createPlexArchive(paths.pms);
    const [result] = await Promise.all([
      uploadArchive(archive.stream, { baseUrl: home.url, transferId: 'job-1-export', token: 'session-token', chunkBytes: 64 * 1024 }),
      archive.finished,
    ]);
    expect(result.chunks).toBeGreaterThan(3);
    expect(sha(home.archivePath('job-1-export'))).toBe(result.sha256);

    const { dir, files } = unpack(home.archivePath('job-1-export'));
    expect(files.filter((f) => !f.startsWith('./Metadata/') && !f.startsWith('./Media/'))).toEqual([
      './Plug-in Support/Databases/com.plexapp.plugins.library.blobs.db',
      './Plug-in Support/Databases/com.plexapp.plugins.library.db',
    ]);
    expect(files.some((f) => f.startsWith('./Metadata/Movies/'))).toBe(true);
    expect(files.some((f) => f.endsWith('/Indexes/index-sd.bif'))).toBe(true);
    expect(files.join('\n')).not.toMatch(/Preferences\.xml|\.LocalAdminToken|Logs\/|-wal|-shm/);
    expect(sha(join(dir, 'Plug-in Support/Databases/com.plexapp.plugins.library.db'))).toBe(sha(paths.mainDb));
  });

  it('resumes after cuts in the middle of chunks, sending each lost chunk again and no other', async () => {
    const paths = await stoppedLibrary();
    const home = await startTransferHome(createTempDir(), 'session-token');
    onTestFinished(() => home.close());
    home.cutNext(3);
    const archive = createPlexArchive(paths.pms);
    const [result] = await Promise.all([
      uploadArchive(archive.stream, { baseUrl: home.url, transferId: 'job-2-export', token: 'session-token', chunkBytes: 32 * 1024, concurrency: 3 }),
      archive.finished,
    ]);
    expect(sha(home.archivePath('job-2-export'))).toBe(result.sha256);
    expect([...home.stored.values()].every((times) => times === 1)).toBe(true);
    expect(home.stored.size).toBe(result.chunks);

    // A second run of the same transfer finds every chunk held and sends none.
    const again = createPlexArchive(paths.pms);
    const [second] = await Promise.all([
      uploadArchive(again.stream, { baseUrl: home.url, transferId: 'job-2-export', token: 'session-token', chunkBytes: 32 * 1024 }),
      again.finished,
    ]);
    expect(second).toMatchObject({ skipped: result.chunks, sha256: result.sha256 });
  });

  it('stops on a refused token', async () => {
    const paths = await stoppedLibrary();
    const home = await startTransferHome(createTempDir(), 'session-token');
    onTestFinished(() => home.close());
    const controller = new AbortController();
    const archive = createPlexArchive(paths.pms, { signal: controller.signal });
    await expect(uploadArchive(archive.stream, { baseUrl: home.url, transferId: 'x', token: 'wrong' })).rejects.toMatchObject({ code: 'AUTH_REFUSED' });
    controller.abort();
    await archive.finished.catch(() => undefined);
  });
});
