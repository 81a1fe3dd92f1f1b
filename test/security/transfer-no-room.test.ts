import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupDatabase, BLOBS_DB_NAME, DATABASES_DIR, mainDatabasePath } from '@plexlift/shared/plex-db';
import { parseJobSpec, type AgentEvent } from '@plexlift/shared/protocol';
import { runPhases } from '../../packages/agent/src/phase-runner.js';
import { upload } from '../../packages/agent/src/phases/upload.js';
import { jobStateFor } from '../utils/agent-job-state.js';
import { generateLibrary } from '../utils/library-generator.js';
import { createTempDir } from '../utils/temp-dir.js';
import { startTransferController } from './transfer-controller.js';

/**
 * The agent's upload phase against a real controller whose disk has no room until `room.open()`:
 * the disk's free space is what the test says, the rest is real (HTTP, chunks, the archive).
 */
async function uploadAgainstFullHome(holdAfterMs: number) {
  const room = { free: 0, opened: false, open: () => ((room.free = Number.MAX_SAFE_INTEGER), (room.opened = true)) };
  const home = await startTransferController({ reserveBytes: 1024 ** 3, freeBytes: () => room.free });
  const dir = createTempDir();
  const library = generateLibrary({ dir: join(dir, 'home'), size: 'tiny' });
  const pms = join(dir, 'vm', 'Plex Media Server');
  mkdirSync(join(pms, DATABASES_DIR), { recursive: true });
  await backupDatabase(library.mainDb, mainDatabasePath(pms));
  if (existsSync(join(library.mainDb, '..', BLOBS_DB_NAME)))
    await backupDatabase(join(library.mainDb, '..', BLOBS_DB_NAME), join(pms, DATABASES_DIR, BLOBS_DB_NAME));
  const job = parseJobSpec({ jobId: 'job-0001', mode: 'delta', plex: { version: '1.43.2.10687-563d026ea' }, media: { mountPath: '/Media', remote: 'r:' } });
  const state = jobStateFor({
    workDir: join(dir, 'vm'),
    pmsDir: pms,
    mainDb: mainDatabasePath(pms),
    holdAfterMs,
    transfers: { baseUrl: home.controller.server.url, token: home.token, exportId: 'job-0001-export' },
  });
  const events: AgentEvent[] = [];
  const run = runPhases([upload], { job, state, signal: new AbortController().signal, report: (e) => events.push(e) });
  const logs = () => events.flatMap((e) => (e.type === 'log' ? [e.message] : []));
  return { home, room, run, events, logs, dir };
}

describe('a home disk that is full (507) (issue 16 item 23)', () => {
  it('the agent says home has no room and waits, then the same transfer completes: nothing archived or sent again', { timeout: 30_000 }, async () => {
    const { home, room, run, logs } = await uploadAgainstFullHome(10_000);
    await expect
      .poll(logs, { timeout: 5_000 })
      .toContainEqual(expect.stringMatching(/^home has no room for the archive: 0 B free, 1(\.0)? GiB needed; waiting \(up to \d+ s more\)$/));
    room.open();
    await run;

    const transfer = home.controller.transferStore.get('job-0001-export')!;
    expect(transfer.state).toBe('verified');
    // Every byte crossed once: a 507 is answered before the body is read, and no chunk was sent twice.
    expect(home.controller.transfers.bytesReceived).toBe(transfer.bytes);
    expect(logs().filter((m) => /upload interrupted|out of reach/.test(m))).toEqual([]);
  });

  it('after the job’s wait the upload stops, the archive is kept on the VM, and the job fails saying where it is', { timeout: 30_000 }, async () => {
    const { run, logs, dir } = await uploadAgainstFullHome(1_500);
    const held = join(dir, 'vm', 'held', 'job-0001.tar.zst');
    await expect(run).rejects.toMatchObject({
      code: 'DISK_FULL',
      message: expect.stringMatching(
        new RegExp(
          `^home has no room for the archive: 0 B free, .* needed; home had no room for \\d+ s, so the upload stopped\\. The archive is kept on the VM at ${held} \\(sha256 [0-9a-f]{64}; it goes with the VM unless the job was run with --keep\\); free space`,
        ),
      ),
    });
    expect(existsSync(held)).toBe(true);
    expect(logs()).toContainEqual(expect.stringMatching(/^the archive is kept on the VM at /));
  });
});
