/**
 * The home side of the archive benchmark, as its own process (its memory is the controller's):
 * the controller's real data plane (`ChunkTransfers` over HTTPS with its self-signed
 * certificate) takes the upload, checks the whole digest, then unpacks the verified archive with
 * the install's `extractArchive`. Prints `ready {url,token,fingerprint}` once it serves, and one
 * JSON line of timings when the archive is unpacked.
 */
import { createServer } from 'node:https';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { extractArchive, PLEX_LIBRARY_ENTRIES } from '@plexlift/shared/archive';
import { parseConfig } from '@plexlift/shared';
import { ensureCertificate } from '../../packages/controller/src/server/tls-certificate.js';
import { parseJobSpec } from '@plexlift/shared/protocol';
import { matchTransferRoute } from '@plexlift/shared/transfer';
import { JobStore } from '../../packages/controller/src/store/job-store.js';
import { openStoreDatabase } from '../../packages/controller/src/store/schema.js';
import { TokenStore } from '../../packages/controller/src/store/token-store.js';
import { ChunkTransfers } from '../../packages/controller/src/transfers/chunk-transfers.js';
import { TransferStore } from '../../packages/controller/src/transfers/transfer-store.js';
import { peakRssBytes } from '../lib/measure.js';

const { values } = parseArgs({ options: { state: { type: 'string' }, out: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' } } });
const stateDir = values.state!;
const config = parseConfig({ server: { stateDir } }, 'bench');
const certificate = await ensureCertificate(config);
const db = openStoreDatabase(join(stateDir, 'plexlift.db'));
const tokens = new TokenStore(db);
// Transfers belong to a job, as in the daemon.
const spec = parseJobSpec({
  jobId: 'bench-job',
  mode: 'delta',
  plex: { version: '1.43.2.10687-563d026ea' },
  media: { mountPath: '/Media', remote: 's3:media' },
});
new JobStore(db).create({ id: 'bench-job', library: 'home', provider: 'local', spec, options: { keep: false, noInstall: false } });
const store = new TransferStore(db);
const started = performance.now();
let firstByteMs: number | undefined;
let verifiedMs: number | undefined;
const transfers = new ChunkTransfers({
  store,
  tokens,
  stagingDir: join(stateDir, 'transfers'),
  reserveBytes: 0,
  onVerified: (transfer) => {
    verifiedMs = performance.now() - started;
    void extractArchive(transfers.read(transfer.id), values.out!, { allow: PLEX_LIBRARY_ENTRIES }).then((extracted) => {
      const doneMs = performance.now() - started;
      process.stdout.write(
        `${JSON.stringify({ firstByteMs, verifiedMs, doneMs, bytesReceived: transfers.bytesReceived, files: extracted.files, bytes: extracted.bytes, peakRssBytes: peakRssBytes() })}\n`,
      );
      server.close();
      db.close();
    });
  },
});
const server = createServer({ cert: certificate.cert, key: certificate.key }, (req, res) => {
  firstByteMs ??= performance.now() - started;
  const route = matchTransferRoute(new URL(req.url ?? '/', 'http://localhost').pathname);
  if (route) transfers.handle(req, res, route);
  else res.writeHead(404).end();
});
server.listen(0, values.host, () => {
  const address = server.address() as { port: number };
  transfers.open('bench-export', 'bench-job', 'export');
  const token = tokens.issue('bench-job', 'transfer');
  const host = values.host.includes(':') ? `[${values.host}]` : values.host;
  process.stdout.write(`ready ${JSON.stringify({ url: `https://${host}:${address.port}`, token, fingerprint: certificate.fingerprint })}\n`);
});
