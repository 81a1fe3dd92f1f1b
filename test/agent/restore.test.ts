import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it, onTestFinished } from 'vitest';
import { extractArchive } from '@plexlift/shared/archive';
import { backupDatabase, DATABASES_DIR, mainDatabasePath } from '@plexlift/shared/plex-db';
import { parseJobSpec, type AgentEvent } from '@plexlift/shared/protocol';
import { downloadArchive } from '../../packages/agent/src/home/download-archive.js';
import { runPhases } from '../../packages/agent/src/phase-runner.js';
import { restore } from '../../packages/agent/src/phases/restore.js';
import { createPlexArchive } from '@plexlift/shared/archive';
import { jobStateFor } from '../utils/agent-job-state.js';
import { generateLibrary } from '../utils/library-generator.js';
import { startTransferHome } from '../utils/transfer-home.js';
import { createTempDir } from '../utils/temp-dir.js';

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** What the controller publishes for a delta job: a consistent snapshot of the home DBs, archived. */
async function publishSnapshot() {
  const dir = createTempDir();
  const library = generateLibrary({ dir: join(dir, 'home'), size: 'small' });
  const pms = join(dir, 'snapshot', 'Plex Media Server');
  mkdirSync(join(pms, DATABASES_DIR), { recursive: true });
  await backupDatabase(library.mainDb, mainDatabasePath(pms));
  const archive = createPlexArchive(pms);
  const file = join(dir, 'snapshot.tar.zst');
  await Promise.all([pipeline(archive.stream, createWriteStream(file)), archive.finished]);
  const home = await startTransferHome(join(dir, 'transfers'), 'session-token');
  onTestFinished(() => home.close());
  await home.publish('job-1-restore', file, 48 * 1024);
  return { home, snapshotDb: mainDatabasePath(pms), dir };
}

describe('restore', () => {
  it('downloads the snapshot chunk by chunk and unpacks DBs byte-identical to it', async () => {
    const { home, snapshotDb, dir } = await publishSnapshot();
    const progress: number[] = [];
    const target = join(dir, 'vm', 'Plex Media Server');
    await extractArchive(
      downloadArchive({ baseUrl: home.url, transferId: 'job-1-restore', token: 'session-token', onProgress: (p) => progress.push(p.chunks) }),
      target,
    );
    expect(sha(mainDatabasePath(target))).toBe(sha(snapshotDb));
    expect(progress.length).toBeGreaterThan(1);
  });

  it('fetches again a chunk that arrives damaged', async () => {
    const { home, snapshotDb, dir } = await publishSnapshot();
    home.corruptNext(2);
    const target = join(dir, 'vm', 'Plex Media Server');
    await extractArchive(downloadArchive({ baseUrl: home.url, transferId: 'job-1-restore', token: 'session-token' }), target);
    expect(sha(mainDatabasePath(target))).toBe(sha(snapshotDb));
  });

  it('refuses a transfer that is not complete, and a refused token', async () => {
    const { home, dir } = await publishSnapshot();
    await expect(
      extractArchive(downloadArchive({ baseUrl: home.url, transferId: 'job-2-restore', token: 'session-token' }), join(dir, 'x')),
    ).rejects.toMatchObject({ code: 'CONTROLLER_UNREACHABLE', message: expect.stringMatching(/no complete snapshot job-2-restore/) });
    await expect(extractArchive(downloadArchive({ baseUrl: home.url, transferId: 'job-1-restore', token: 'wrong' }), join(dir, 'y'))).rejects.toMatchObject({
      code: 'AUTH_REFUSED',
    });
  });
});

describe('the restore phase', () => {
  async function restoreFrom(build: (pms: string, dir: string) => Promise<string>) {
    const dir = createTempDir();
    const library = generateLibrary({ dir: join(dir, 'home'), size: 'small' });
    const pms = join(dir, 'snapshot', 'Plex Media Server');
    mkdirSync(join(pms, DATABASES_DIR), { recursive: true });
    await backupDatabase(library.mainDb, mainDatabasePath(pms));
    const file = await build(pms, dir);
    const home = await startTransferHome(join(dir, 'transfers'), 'session-token');
    onTestFinished(() => home.close());
    await home.publish('job-1-restore', file, 48 * 1024);
    const job = parseJobSpec({ jobId: 'job-1', mode: 'delta', plex: { version: '1.43.2.10687-563d026ea' }, media: { mountPath: '/Media', remote: 'r:' } });
    const state = jobStateFor({
      workDir: dir,
      pmsDir: join(dir, 'vm', 'Plex Media Server'),
      mainDb: '',
      transfers: { baseUrl: home.url, token: 'session-token', restoreId: 'job-1-restore', exportId: 'job-1-export' },
    });
    const events: AgentEvent[] = [];
    const run = runPhases([restore], { job, state, signal: new AbortController().signal, report: (e) => events.push(e) });
    return { run, state, pms, events };
  }

  it("unpacks home's Metadata/ and Media/ with the DBs when home sends them", async () => {
    const { run, state, events } = await restoreFrom(async (pms, dir) => {
      for (const path of ['Metadata/Movies/a/1b2c.bundle/Contents/_combined/posters/p.jpg', 'Media/localhost/a/bcd.bundle/Contents/Indexes/index-sd.bif']) {
        mkdirSync(join(pms, path, '..'), { recursive: true });
        writeFileSync(join(pms, path), 'x'.repeat(1000));
      }
      const archive = createPlexArchive(pms);
      const file = join(dir, 'snapshot.tar.zst');
      await Promise.all([pipeline(archive.stream, createWriteStream(file)), archive.finished]);
      return file;
    });
    await run;
    expect(readFileSync(join(state.pmsDir, 'Metadata/Movies/a/1b2c.bundle/Contents/_combined/posters/p.jpg'), 'utf8')).toHaveLength(1000);
    expect(existsSync(join(state.pmsDir, 'Media/localhost/a/bcd.bundle/Contents/Indexes/index-sd.bif'))).toBe(true);
    const complete = events.find((e) => e.type === 'phase:complete') as Extract<AgentEvent, { type: 'phase:complete' }>;
    expect(complete.summary).toMatchObject({ files: 3, folders: ['Metadata', 'Media'] });
  });

  it("refuses a snapshot that carries a Preferences.xml: the cloud server never takes home's identity", async () => {
    const { run, state } = await restoreFrom((pms, dir) => {
      writeFileSync(join(pms, 'Preferences.xml'), '<Preferences MachineIdentifier="home" PlexOnlineToken="secret"/>');
      const file = join(dir, 'snapshot.tar.zst');
      execFileSync('bash', ['-c', 'tar -C "$0" -c "Plug-in Support" Preferences.xml | zstd -q -c > "$1"', pms, file]);
      return Promise.resolve(file);
    });
    await expect(run).rejects.toMatchObject({
      code: 'SAFETY_STOP',
      message: expect.stringMatching(/archive entry "Preferences.xml" refused: not part of a Plex library archive/),
    });
    expect(existsSync(join(state.pmsDir, 'Preferences.xml'))).toBe(false);
  });
});
