import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it, vi } from 'vitest';
import { adaptiveZstd } from './adaptive-zstd.js';

/** Half random, half repeated text: compressible, and harder levels make it smaller. */
function sample(mebibytes: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < mebibytes * 4; i++)
    parts.push(randomBytes(128 * 1024), Buffer.from(`<Video ratingKey="${i}" title="Film ${i}"/>\n`.repeat(2_500)).subarray(0, 128 * 1024));
  return Buffer.concat(parts);
}

function decompress(data: Buffer): Buffer {
  const result = spawnSync('zstd', ['-d', '-q', '-c'], { input: data, maxBuffer: 1024 ** 3 });
  expect(result.status).toBe(0);
  return result.stdout;
}

/** Source of `data` in 64 KiB pieces, as tar's stdout gives it. */
function source(data: Buffer): Readable {
  return Readable.from(
    (function* () {
      for (let at = 0; at < data.length; at += 65_536) yield data.subarray(at, at + 65_536);
    })(),
  );
}

describe('adaptiveZstd', () => {
  it('keeps one frame at the lowest level while the reader keeps up', async () => {
    const input = sample(8);
    const compressed = adaptiveZstd(source(input), { segmentBytes: 1024 * 1024, windowMs: 50, sampleMs: 10 });
    const [output] = await Promise.all([buffer(compressed.stream), compressed.finished]);
    expect(compressed.levels).toEqual([3]);
    expect(decompress(output).equals(input)).toBe(true);
  });

  it('raises the level while the reader is the slow side, and the frames read back as one stream', async () => {
    // Large beside the pipes and zstd's own buffers (a few MiB), which fill before the reader slows anything.
    const input = sample(32);
    const compressed = adaptiveZstd(source(input), { segmentBytes: 1024 * 1024, windowMs: 50, sampleMs: 10, max: 9 });
    const received: Buffer[] = [];
    // A slow link: 64 KiB every 5 ms, about 13 MB/s.
    const slowLink = new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer, _encoding, done) {
        received.push(chunk);
        setTimeout(done, 5);
      },
    });
    await Promise.all([pipeline(compressed.stream, slowLink), compressed.finished]);
    expect(compressed.levels[0]).toBe(3);
    expect(Math.max(...compressed.levels)).toBeGreaterThan(3);
    expect(Math.max(...compressed.levels)).toBeLessThanOrEqual(9);
    expect(decompress(Buffer.concat(received)).equals(input)).toBe(true);
  });

  it("fails with zstd's exit when zstd is stopped (an aborted job), and stops reading its input", async () => {
    const endless = new Readable({
      read() {
        this.push(Buffer.alloc(65_536, 1));
      },
    });
    const abort = new AbortController();
    const compressed = adaptiveZstd(endless, { signal: abort.signal });
    compressed.stream.resume();
    // Aborted mid-stream, once zstd has been compressing for a while.
    setTimeout(() => abort.abort(), 100);
    await expect(compressed.finished).rejects.toThrow(/aborted/);
    await vi.waitFor(() => expect(endless.destroyed, 'its input no longer read').toBe(true), { timeout: 1_000, interval: 10 });
  });
});
