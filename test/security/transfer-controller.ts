import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { parseJobSpec } from '@plexlift/shared/protocol';
import { CHUNK_SHA256_HEADER } from '@plexlift/shared/transfer';
import { startController, type CoreOptions } from '../../packages/controller/src/controller.js';
import { createTempDir } from '../utils/temp-dir.js';

export const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/**
 * A real controller on loopback with one job and its export transfer open, for the data plane's
 * security tests: `put` and `complete` speak the chunk protocol with the job's transfer token.
 */
export async function startTransferController(transfers: CoreOptions['transfers'] = {}) {
  const dir = createTempDir();
  const controller = await startController({
    stateDir: join(dir, 'state'),
    adminToken: 'admin-secret-0123456789',
    host: '127.0.0.1',
    agentJob: () => Promise.reject(new Error('not used')),
    transfers: { reserveBytes: 0, ...transfers },
  });
  onTestFinished(() => controller.close());
  const spec = parseJobSpec({
    jobId: 'job-0001',
    mode: 'delta',
    plex: { version: '1.43.2.10687-563d026ea' },
    media: { mountPath: '/Media', remote: 's3:media' },
  });
  controller.jobs.create({ id: 'job-0001', library: 'home', provider: 'local', spec, options: { keep: false, noInstall: false } });
  const token = controller.tokens.issue('job-0001', 'transfer');
  const transfer = controller.transfers.open('job-0001-export', 'job-0001', 'export');
  const base = `${controller.server.url}/transfers/job-0001-export`;
  const put = (index: number | string, body: Buffer) =>
    fetch(`${base}/chunks/${index}`, { method: 'PUT', headers: { Authorization: `Bearer ${token}`, [CHUNK_SHA256_HEADER]: sha256(body) }, body });
  const complete = (chunks: Buffer[]) =>
    fetch(`${base}/complete`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ chunks: chunks.length, bytes: Buffer.concat(chunks).length, sha256: sha256(Buffer.concat(chunks)) }),
    });
  return { dir, controller, token, transfer, base, put, complete };
}
