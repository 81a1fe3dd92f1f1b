/**
 * The VM side of the archive benchmark, as its own process (its memory is the agent's): the
 * agent's real archive (`tar | zstd -T0`, streamed) cut into chunks and uploaded with its real
 * client over pinned TLS. Prints one JSON line when home has verified the archive.
 */
import { parseArgs } from 'node:util';
import { createPlexArchive } from '@plexlift/shared/archive';
import { PinnedTls } from '@plexlift/shared/tls';
import { uploadArchive } from '../../packages/agent/src/home/upload-archive.js';
import { peakRssBytes } from '../lib/measure.js';

const { values } = parseArgs({
  options: { pms: { type: 'string' }, url: { type: 'string' }, token: { type: 'string' }, fingerprint: { type: 'string' }, level: { type: 'string' } },
});
const started = performance.now();
const pin = new PinnedTls(values.fingerprint!, (error) => {
  throw error;
});
// --level fixes the level (min = max); without it, the agent's own adaptive level.
const archive = createPlexArchive(values.pms!, values.level ? { compression: { min: Number(values.level), max: Number(values.level) } } : {});
const result = await uploadArchive(archive.stream, {
  baseUrl: values.url!,
  transferId: 'bench-export',
  token: values.token!,
  fetch: pin.fetch,
  beforeComplete: () => archive.finished,
});
process.stdout.write(
  `${JSON.stringify({ uploadedMs: performance.now() - started, chunks: result.chunks, bytes: result.bytes, peakRssBytes: peakRssBytes(), levels: archive.levels })}\n`,
);
