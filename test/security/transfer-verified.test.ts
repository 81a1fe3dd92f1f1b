import { randomBytes } from 'node:crypto';
import { openSync, readFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { CHUNK_SHA256_HEADER } from '@plexlift/shared/transfer';
import { installArchive } from '../../packages/controller/src/install/home-install.js';
import { cloudResult } from '../utils/cloud-result.js';
import { homeInstallOptions } from '../utils/home-install-options.js';
import { libraryFingerprint } from '../utils/home-plex.js';
import { startHomePlex } from '../utils/home-plex-fixture.js';
import { sha256, startTransferController } from './transfer-controller.js';

/** Flips one byte in the middle of a file: what a write to the staging folder would do. */
function flipByte(path: string): void {
  const data = readFileSync(path);
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.from([data[data.length >> 1]! ^ 0xff]), 0, 1, data.length >> 1);
  closeSync(fd);
}

describe('a verified archive stays what was verified (issue 16 item 15)', () => {
  it('a chunk upload that started before the verification cannot replace a chunk once it is done', async () => {
    const home = await startTransferController();
    const chunks = [randomBytes(100_000), randomBytes(100_000)];
    for (const [index, data] of chunks.entries()) expect((await home.put(index, data)).status).toBe(201);

    // A second copy of chunk 0 starts, sends half its body and waits.
    const other = randomBytes(100_000);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const racing = fetch(`${home.base}/chunks/0`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${home.token}`, [CHUNK_SHA256_HEADER]: sha256(other), 'Content-Length': String(other.length) },
      body: Readable.from(
        (async function* () {
          yield other.subarray(0, 50_000);
          await gate;
          yield other.subarray(50_000);
        })(),
      ),
      duplex: 'half',
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await home.complete(chunks)).status).toBe(200);
    release();

    const answer = await racing;
    expect(answer.status).toBe(409);
    expect(await answer.text()).toMatch(/was verified while chunk 0 arrived; it takes no more chunks/);
    expect(home.controller.transferStore.chunks('job-0001-export')[0]?.sha256).toBe(sha256(chunks[0]!));
    expect(sha256(await buffer(home.controller.transfers.read('job-0001-export')))).toBe(sha256(Buffer.concat(chunks)));
  });

  it('a chunk changed on disk after the verification fails the read naming it, and the install refuses before Plex is stopped', async () => {
    const plex = await startHomePlex();
    const archivePath = await cloudResult(plex, 1);
    const archive = readFileSync(archivePath);
    const home = await startTransferController();
    const size = 64 * 1024;
    const chunks = Array.from({ length: Math.ceil(archive.length / size) }, (_, i) => archive.subarray(i * size, (i + 1) * size));
    for (const [index, data] of chunks.entries()) expect((await home.put(index, data)).status).toBe(201);
    expect((await home.complete(chunks)).status).toBe(200);
    flipByte(join(home.transfer.path, '0.chunk'));

    await expect(buffer(home.controller.transfers.read('job-0001-export'))).rejects.toThrow(
      /chunk 0 of transfer job-0001-export changed on disk since it was verified .*: the archive is not used/,
    );
    const before = libraryFingerprint(plex.paths.pms);
    const options = homeInstallOptions({ pmsDir: plex.paths.pms, control: plex.control, url: plex.url }, archivePath, { startTimeoutMs: 4_000 });
    options.archive.destroy(); // the install reads the staged transfer instead
    await expect(installArchive({ ...options, archive: home.controller.transfers.read('job-0001-export') })).rejects.toThrow(/chunk 0 .* changed on disk/);
    expect(plex.calls).toEqual([]);
    expect(libraryFingerprint(plex.paths.pms)).toEqual(before);
  });
});
