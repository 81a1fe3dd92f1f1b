import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { CHUNK_SHA256_HEADER } from '@plexlift/shared/transfer';
import { sha256, startTransferController } from './transfer-controller.js';

const MiB = 1024 * 1024;

/** Bytes of the files under a folder: what the staged transfers take on disk. */
function stagedBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .reduce((sum, entry) => sum + statSync(join(entry.parentPath, entry.name)).size, 0);
}

/** A chunk upload whose body arrives in two halves `pauseMs` apart, so many are in flight at once. */
async function slowPut(base: string, token: string, index: number, body: Buffer, pauseMs: number): Promise<number> {
  async function* halves() {
    yield body.subarray(0, body.length / 2);
    await sleep(pauseMs);
    yield body.subarray(body.length / 2);
  }
  try {
    const response = await fetch(`${base}/chunks/${index}`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${token}`, [CHUNK_SHA256_HEADER]: sha256(body), 'Content-Length': String(body.length) },
      body: Readable.from(halves()),
      duplex: 'half',
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0; // refused before the body was read: the socket went
  }
}

describe('uploads cannot fill the home disk (issue 16 item 6)', () => {
  it('concurrent chunk uploads reserve their bytes: the disk never goes below the reserve, the rest are told 507', async () => {
    // A disk of a set size, measured from the real files staged on it.
    const reserve = 4 * MiB;
    const chunk = 1 * MiB;
    const capacity = reserve + 3.5 * chunk;
    let stagingDir = '';
    const home = await startTransferController({
      reserveBytes: reserve,
      freeBytes: () => capacity - stagedBytes(stagingDir),
      maxUploads: { perTransfer: 16, total: 16 },
    });
    stagingDir = join(home.dir, 'state', 'transfers');

    const statuses = await Promise.all(Array.from({ length: 8 }, (_, i) => slowPut(home.base, home.token, i, randomBytes(chunk), 400)));

    expect(statuses.filter((s) => s === 201)).toHaveLength(3);
    expect(statuses.filter((s) => s !== 201).every((s) => s === 507 || s === 0)).toBe(true);
    expect(capacity - stagedBytes(stagingDir)).toBeGreaterThanOrEqual(reserve);
    expect(home.controller.transferStore.chunks('job-0001-export')).toHaveLength(3);
  });

  it('home takes a bounded number of chunk uploads at once, per transfer and in all: more are told 429 to come back', async () => {
    const home = await startTransferController({ maxUploads: { perTransfer: 2, total: 16 } });
    const statuses = await Promise.all(Array.from({ length: 5 }, (_, i) => slowPut(home.base, home.token, i, randomBytes(64 * 1024), 400)));
    expect(statuses.filter((s) => s === 201)).toHaveLength(2);
    expect(statuses.filter((s) => s !== 201).every((s) => s === 429 || s === 0)).toBe(true);
    const again = await home.put(4, Buffer.from('after the others'));
    expect(again.status).toBe(201);

    const all = await startTransferController({ maxUploads: { perTransfer: 16, total: 3 } });
    const total = await Promise.all(Array.from({ length: 5 }, (_, i) => slowPut(all.base, all.token, i, randomBytes(64 * 1024), 400)));
    expect(total.filter((s) => s === 201)).toHaveLength(3);
  });

  it('refuses a chunk index that is not a whole number below the most chunks an archive can have, and stores nothing', async () => {
    // 4 MiB archives at most, cut into chunks of at least 1 MiB: indexes 0 to 3.
    const home = await startTransferController({ maxArchiveBytes: 4 * MiB });
    const data = Buffer.from('a chunk');
    for (const index of ['1e23', '100000000000000000000000', 'Infinity', '-1', '1.5', '4', '0x1', '01']) {
      const response = await home.put(index, data);
      expect(response.status, index).toBe(400);
      expect(await response.text(), index).toMatch(/chunk index in the path must be a whole number from 0 to 3/);
    }
    expect(home.controller.transferStore.chunks('job-0001-export')).toEqual([]);
    expect((await home.put(3, data)).status).toBe(201);
    expect(home.controller.transferStore.chunks('job-0001-export').map((c) => c.index)).toEqual([3]);
  });

  it('chunks dropped past the end of a shorter archive go with their files', async () => {
    const home = await startTransferController();
    const chunks = [randomBytes(1000), randomBytes(1000), randomBytes(1000)];
    for (const [index, data] of chunks.entries()) expect((await home.put(index, data)).status).toBe(201);
    expect((await home.complete(chunks.slice(0, 2))).status).toBe(200);
    expect(home.controller.transferStore.chunks('job-0001-export').map((c) => c.index)).toEqual([0, 1]);
    expect(readdirSync(home.transfer.path).sort()).toEqual(['0.chunk', '1.chunk']);
  });
});
