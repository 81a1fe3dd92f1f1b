import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { bytesPerSecondOf, parseConfig, RunRequestSchema } from '@plexlift/shared';
import { parseJobSpec } from '@plexlift/shared/protocol';
import { downloadArchive } from '../../packages/agent/src/home/download-archive.js';
import { uploadArchive } from '../../packages/agent/src/home/upload-archive.js';
import { sha256, startTransferController } from '../security/transfer-controller.js';
import { runCli } from '../utils/run-cli.js';

const MiB = 1024 * 1024;

/** How long `work` takes, in seconds. */
async function timed<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number }> {
  const started = performance.now();
  const result = await work();
  return { result, seconds: (performance.now() - started) / 1000 };
}

describe('--bwlimit: the archive transfers between home and the agent, both ways', () => {
  it('an upload limited to 1 MiB/s takes 3 s for 3 MiB, far longer than unlimited; its chunks go one at a time at the whole rate, so home (cutting below 1 MiB/s here) keeps them', async () => {
    // Home cuts a chunk slower than 1 MiB/s (plus 1 s): two 1.5 MiB chunks sharing the limit would take 3 s each and be cut at 2.5 s.
    const home = await startTransferController({ slowLink: { minBytesPerSecond: MiB, stallMs: 1_000 } });
    home.controller.transfers.open('job-0001-limited', 'job-0001', 'export');
    const archive = randomBytes(3 * MiB); // incompressible: what crosses is what is sent
    const send = (transferId: string, bwlimitBytesPerSecond?: number) =>
      timed(() =>
        uploadArchive(Readable.from([archive]), {
          baseUrl: home.controller.server.url,
          transferId,
          token: home.token,
          chunkBytes: 1.5 * MiB,
          bwlimitBytesPerSecond,
        }),
      );

    const unlimited = await send('job-0001-export');
    const limited = await send('job-0001-limited', MiB);

    expect(limited.result.sha256).toBe(sha256(archive));
    expect(sha256(await buffer(home.controller.transfers.read('job-0001-limited')))).toBe(sha256(archive));
    expect(limited.seconds).toBeGreaterThanOrEqual(2.5);
    expect(limited.seconds).toBeLessThan(6);
    expect(unlimited.seconds).toBeLessThan(limited.seconds / 3);
  });

  it('a restore limited to 1 MiB/s takes 3 s for 3 MiB, far longer than unlimited, and arrives whole', async () => {
    const home = await startTransferController();
    const snapshot = randomBytes(3 * MiB);
    writeFileSync(join(home.dir, 'snapshot'), snapshot);
    await home.controller.transfers.publish('job-0001-restore', 'job-0001', createReadStream(join(home.dir, 'snapshot')), MiB);
    const fetchAll = (bwlimitBytesPerSecond?: number) =>
      timed(() => buffer(downloadArchive({ baseUrl: home.controller.server.url, transferId: 'job-0001-restore', token: home.token, bwlimitBytesPerSecond })));

    const unlimited = await fetchAll();
    const limited = await fetchAll(MiB);

    expect(sha256(limited.result)).toBe(sha256(snapshot));
    expect(limited.seconds).toBeGreaterThanOrEqual(2.5);
    expect(limited.seconds).toBeLessThan(6);
    expect(unlimited.seconds).toBeLessThan(limited.seconds / 3);
  });

  it('reads rates as rclone writes them, and refuses a limit below the slowest rate home accepts, saying why', () => {
    expect(['10M', '10MiB', '10mb', '512K', '512k', '1.5M', '65536', '65536B', '1G', 'off', 'OFF', '0', 2_097_152].map(bytesPerSecondOf)).toEqual([
      10 * MiB,
      10 * MiB,
      10 * MiB,
      512 * 1024,
      512 * 1024,
      1.5 * MiB,
      65_536,
      65_536,
      1024 * MiB,
      undefined,
      undefined,
      undefined,
      2 * MiB,
    ]);
    expect(parseConfig({}, 'test').transfers).toEqual({});
    expect(parseConfig({ transfers: { bwlimit: '10M' } }, 'test').transfers).toEqual({ bwlimit: '10M' });
    expect(() => parseConfig({ transfers: { bwlimit: 'fast' } }, 'test')).toThrow(
      'transfers.bwlimit: must be a rate as rclone writes it: 10M (10 MiB/s), 512K (512 KiB/s), a number of bytes per second, or off; not "fast"',
    );
    expect(() => parseConfig({ transfers: { bwlimit: '32K' } }, 'test')).toThrow(
      'transfers.bwlimit: 32K is below 64K (64KiB/s), the slowest a chunk may cross before home cuts it as stalled: set at least 64K, or off',
    );
    expect(() => parseConfig({ transfers: { bwlimit: '10M:1M' } }, 'test')).toThrow(/transfers\.bwlimit: one rate for both directions/);
    expect(RunRequestSchema.safeParse({ mode: 'delta', bwlimit: '-1' }).success).toBe(false);
  });

  it('travels to the agent in the job spec, which refuses a limit below 64 KiB/s', () => {
    const base = { jobId: 'job-0001', mode: 'delta', plex: { version: '1.43.2.10687-563d026ea' }, media: { mountPath: '/Media', remote: 's3:media' } };
    expect(parseJobSpec({ ...base, bwlimitBytesPerSecond: 10 * MiB }).bwlimitBytesPerSecond).toBe(10 * MiB);
    expect(parseJobSpec(base).bwlimitBytesPerSecond).toBeUndefined();
    expect(() => parseJobSpec({ ...base, bwlimitBytesPerSecond: 1024 })).toThrow(/bwlimitBytesPerSecond: must be at least 65536 \(64 KiB\/s\)/);
  });

  it('plexlift run --bwlimit: a value that is not a rate, or too low, is a usage error naming the flag (exit 2)', async () => {
    const cases: [string, RegExp][] = [
      [
        'fast',
        /^plexlift: --bwlimit: must be a rate as rclone writes it: 10M \(10 MiB\/s\), 512K \(512 KiB\/s\), a number of bytes per second, or off; not "fast"\n/,
      ],
      ['32K', /^plexlift: --bwlimit: 32K is below 64K \(64KiB\/s\), the slowest a chunk may cross before home cuts it as stalled: set at least 64K, or off\n/],
      ['512', /--bwlimit: 512 is below 64K .*; a plain number is bytes per second \(rclone reads it as KiB\/s: write 512K for that\)\n/],
    ];
    for (const [value, message] of cases) {
      const result = await runCli(['run', '--mode', 'delta', '--bwlimit', value]);
      expect(result.status, value).toBe(2);
      expect(result.stderr).toMatch(message);
    }
  });
});
