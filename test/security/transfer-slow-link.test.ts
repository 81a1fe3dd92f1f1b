import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  CHUNK_SHA256_HEADER,
  chunkBytesForRate,
  MAX_TRANSFER_CHUNK_BYTES,
  MIN_TRANSFER_BYTES_PER_SECOND,
  MIN_TRANSFER_CHUNK_BYTES,
  TRANSFER_CHUNK_BYTES,
  TRANSFER_STALL_MS,
} from '@plexlift/shared/transfer';
import { sha256, startTransferController } from './transfer-controller.js';

/** A chunk upload whose body comes in `pieces` pieces `gapMs` apart, then (when `stallAfter` is set) stops sending. */
function paced(base: string, token: string, body: Buffer, pieces: number, gapMs: number, stall?: Promise<void>) {
  const size = Math.ceil(body.length / pieces);
  return fetch(`${base}/chunks/0`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${token}`, [CHUNK_SHA256_HEADER]: sha256(body), 'Content-Length': String(body.length) },
    body: Readable.from(
      (async function* () {
        for (let offset = 0; offset < body.length; offset += size) {
          if (offset > 0) await (stall ?? sleep(gapMs));
          yield body.subarray(offset, offset + size);
        }
      })(),
    ),
    duplex: 'half',
  });
}

describe('chunks on a slow link (issue 16 item 23)', () => {
  it('a chunk request may take as long as the largest chunk at the slowest rate, not Node’s 300 s', async () => {
    const home = await startTransferController();
    // 256 MiB at 64 KiB/s, plus one stall: 4 156 s. A 64 MiB chunk at 1.8 Mbit/s takes ~300 s.
    expect(home.controller.transfers.requestTimeoutMs).toBe(Math.ceil((MAX_TRANSFER_CHUNK_BYTES / MIN_TRANSFER_BYTES_PER_SECOND) * 1000) + TRANSFER_STALL_MS);
    expect(home.controller.transfers.requestTimeoutMs).toBeGreaterThan(300_000);
  });

  it('an agent on a slow link cuts chunks of about a minute of what it moved, within the contract’s bounds', () => {
    const MiB = 1024 * 1024;
    expect(chunkBytesForRate(100 * 1024)).toBe(5 * MiB); // 0.8 Mbit/s: 5.9 MiB a minute
    expect(chunkBytesForRate(MIN_TRANSFER_BYTES_PER_SECOND)).toBe(3 * MiB);
    expect(chunkBytesForRate(1024)).toBe(MIN_TRANSFER_CHUNK_BYTES);
    expect(chunkBytesForRate(100 * MiB)).toBe(TRANSFER_CHUNK_BYTES);
  });

  it('with a 1 s stall limit, a 3 s upload that keeps sending is taken and one that stops sending is cut within the limit', { timeout: 15_000 }, async () => {
    const home = await startTransferController({ maxChunkBytes: 128 * 1024, slowLink: { minBytesPerSecond: 16 * 1024, stallMs: 1_000 } });
    const body = randomBytes(80 * 1024);

    const started = performance.now();
    const steady = await paced(home.base, home.token, body, 10, 330);
    expect(steady.status).toBe(201);
    expect(performance.now() - started).toBeGreaterThan(2_900);

    let release!: () => void;
    const never = new Promise<void>((resolve) => (release = resolve));
    onTestFinished(() => release());
    const cutAt = performance.now();
    await expect(paced(home.base, home.token, randomBytes(80 * 1024), 10, 0, never).then((r) => r.text())).rejects.toThrow();
    expect(performance.now() - cutAt).toBeLessThan(3_000);
    expect(home.controller.transferStore.chunks('job-0001-export').map((c) => c.sha256)).toEqual([sha256(body)]);
    await expect.poll(() => readdirSync(home.transfer.path).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });
});
