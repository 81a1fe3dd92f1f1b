import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseJobSpec } from '@plexlift/shared/protocol';
import { downloadArchive } from '../../packages/agent/src/home/download-archive.js';
import { uploadArchive } from '../../packages/agent/src/home/upload-archive.js';
import { startController } from '../../packages/controller/src/controller.js';
import type { TransferRecord } from '../../packages/controller/src/transfers/transfer-store.js';
import { startCuttingProxy } from '../utils/cutting-proxy.js';
import { createTempDir } from '../utils/temp-dir.js';

const spec = parseJobSpec({
  jobId: 'job-0001',
  mode: 'delta',
  plex: { version: '1.43.2.10687-563d026ea' },
  media: { mountPath: '/Media', remote: 's3:media' },
});
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function home(transfers: { reserveBytes?: number } = {}) {
  const dir = createTempDir();
  const verified: TransferRecord[] = [];
  const controller = await startController({
    stateDir: join(dir, 'state'),
    adminToken: 'admin-secret-0123456789',
    host: '127.0.0.1',
    agentJob: () => Promise.reject(new Error('not used')),
    onVerified: (t) => verified.push(t),
    transfers: { reserveBytes: 0, ...transfers },
  });
  onTestFinished(() => controller.close());
  controller.jobs.create({ id: 'job-0001', library: 'home', provider: 'local', spec, options: { keep: false, noInstall: false } });
  const token = controller.tokens.issue('job-0001', 'transfer');
  controller.transfers.open('job-0001-export', 'job-0001', 'export');
  return { dir, controller, token, verified };
}

/** A deterministic random sequence (a test that fails can be replayed). */
function seeded(seed: number) {
  return () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

describe('the chunk protocol, agent client against the controller', () => {
  it('an upload cut at 10 random offsets resumes, the digest matches, and the bytes received stay under the archive plus the chunks in flight at each cut', async () => {
    const { dir, controller, token, verified } = await home();
    const archive = randomBytes(6 * 1024 * 1024 + 12_345); // incompressible: what crosses is what is sent
    writeFileSync(join(dir, 'archive.tar.zst'), archive);
    const random = seeded(20261121);
    const offsets = Array.from({ length: 10 }, () => Math.floor(8_192 + random() * (archive.length - 16_384)));
    const proxy = await startCuttingProxy(controller.server.port, offsets);
    onTestFinished(() => proxy.close());
    const chunkBytes = 256 * 1024;
    const concurrency = 2;

    const result = await uploadArchive(createReadStream(join(dir, 'archive.tar.zst')), {
      baseUrl: proxy.url,
      transferId: 'job-0001-export',
      token,
      chunkBytes,
      concurrency,
    });

    expect(proxy.cuts, `offsets ${offsets.join(', ')}`).toBe(10);
    expect(result.sha256).toBe(sha256(archive));
    expect(verified.map((t) => [t.id, t.sha256, t.bytes])).toEqual([['job-0001-export', sha256(archive), archive.length]]);
    expect(sha256(await buffer(controller.transfers.read('job-0001-export')))).toBe(sha256(archive));
    expect(controller.transfers.bytesReceived).toBeGreaterThan(archive.length);
    expect(controller.transfers.bytesReceived).toBeLessThanOrEqual(archive.length + 10 * concurrency * chunkBytes);
  });

  it('refuses a damaged chunk, a wrong whole digest, a wrong token, and a chunk the disk cannot take', async () => {
    const { controller, token } = await home();
    const base = `${controller.server.url}/transfers/job-0001-export`;
    const data = randomBytes(1000);
    const put = (body: Buffer, sha: string, bearer = token) =>
      fetch(`${base}/chunks/0`, { method: 'PUT', headers: { Authorization: `Bearer ${bearer}`, 'X-Plexlift-Chunk-Sha256': sha }, body });
    const damaged = await put(data, sha256(randomBytes(10)));
    expect(damaged.status).toBe(422);
    expect(await damaged.text()).toMatch(/chunk 0 arrived damaged/);
    expect((await put(data, sha256(data), 'plx_t_wrong')).status).toBe(401);
    expect((await fetch(`${controller.server.url}/transfers/job-9999-export`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(401);
    expect((await put(data, sha256(data))).status).toBe(201);
    const complete = (sha: string) =>
      fetch(`${base}/complete`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ chunks: 1, bytes: 1000, sha256: sha }),
      });
    const wrong = await complete(sha256(randomBytes(10)));
    expect(wrong.status).toBe(409);
    expect(await wrong.text()).toMatch(/does not match/);
    expect(controller.transferStore.get('job-0001-export')?.state).toBe('open');
    expect((await complete(sha256(data))).status).toBe(200);
    expect(controller.transferStore.get('job-0001-export')?.state).toBe('verified');

    const full = await home({ reserveBytes: Number.MAX_SAFE_INTEGER });
    const refused = await fetch(`${full.controller.server.url}/transfers/job-0001-export/chunks/0`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${full.token}`, 'X-Plexlift-Chunk-Sha256': sha256(data) },
      body: data,
    });
    expect(refused.status).toBe(507);
    expect(await refused.text()).toMatch(/free for transfers.*free some space and the upload resumes/);
  });

  it('serves a published snapshot for restore, chunk by chunk, checked by the agent', async () => {
    const { dir, controller, token } = await home();
    const snapshot = randomBytes(300_000);
    writeFileSync(join(dir, 'snapshot'), snapshot);
    await controller.transfers.publish('job-0001-restore', 'job-0001', createReadStream(join(dir, 'snapshot')), 64 * 1024);
    const chunks: number[] = [];
    const received = await buffer(
      downloadArchive({ baseUrl: controller.server.url, transferId: 'job-0001-restore', token, onProgress: (p) => chunks.push(p.chunks) }),
    );
    expect(sha256(received)).toBe(sha256(readFileSync(join(dir, 'snapshot'))));
    expect(chunks).toEqual([1, 2, 3, 4, 5]);
  });
});
