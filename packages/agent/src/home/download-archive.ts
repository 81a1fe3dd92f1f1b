import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { PlexliftError } from '@plexlift/shared';
import { TRANSFER_PATHS } from '@plexlift/shared/transfer';
import { BandwidthLimit, throttle } from './bandwidth-limit.js';
import { bearerHeaders, getListing, requestChunk, transferUrl, type TransferAddress } from './chunk-client.js';

export interface DownloadOptions extends TransferAddress {
  /** Attempts per chunk (cuts, digest mismatches). @default 8 */
  maxAttempts?: number;
  /** The job's `--bwlimit`: the most bytes per second read. */
  bwlimitBytesPerSecond?: number | undefined;
  onProgress?: (progress: { chunks: number; of: number; bytes: number }) => void;
}

const REFUSED = 'home refused the restore token';

/**
 * The agent side of `restore`: the same chunk protocol the other way (DESIGN.md, "Data plane").
 * Chunks are fetched one after another, each checked against its sha256 and fetched again after
 * a cut or a mismatch; the stream fails at its end unless the whole digest matches, so a caller
 * extracting it never finishes on a corrupt snapshot. Memory holds one chunk.
 */
export function downloadArchive(options: DownloadOptions): Readable {
  return Readable.from(chunks(options), { objectMode: false });
}

async function* chunks(options: DownloadOptions): AsyncGenerator<Buffer> {
  const listing = await getListing(options, { refusal: REFUSED });
  if (!listing?.complete || !listing.sha256) {
    throw new PlexliftError('CONTROLLER_UNREACHABLE', `home has no complete snapshot ${options.transferId} yet`);
  }
  const ordered = [...listing.chunks].sort((a, b) => a.index - b.index);
  if (ordered.some((chunk, i) => chunk.index !== i)) throw new PlexliftError('SAFETY_STOP', `snapshot ${options.transferId} has missing chunks`);
  const whole = createHash('sha256');
  let bytes = 0;
  const limit = options.bwlimitBytesPerSecond ? new BandwidthLimit(options.bwlimitBytesPerSecond) : undefined;
  for (const chunk of ordered) {
    const url = transferUrl(options, (id) => TRANSFER_PATHS.chunk(id, chunk.index));
    const data = await requestChunk(
      options,
      {
        url,
        init: () => ({ headers: bearerHeaders(options) }),
        read: async (response) => {
          const body = limit ? await readLimited(response, limit, options.signal) : Buffer.from(await response.arrayBuffer());
          if (createHash('sha256').update(body).digest('hex') !== chunk.sha256) throw new Error('sha256 mismatch');
          return body;
        },
        refusal: REFUSED,
        failure: `${url} could not be fetched`,
      },
      options.maxAttempts,
    );
    whole.update(data);
    bytes += data.length;
    options.onProgress?.({ chunks: chunk.index + 1, of: ordered.length, bytes });
    yield data;
  }
  const digest = whole.digest('hex');
  if (digest !== listing.sha256) {
    throw new PlexliftError('SAFETY_STOP', `snapshot ${options.transferId} does not match its digest (${digest} ≠ ${listing.sha256}); it is not used`);
  }
}

/**
 * A chunk's body read no faster than the limit: what is not read stays in the socket's buffers,
 * so TCP slows home's sending to the same rate.
 */
async function readLimited(response: Response, limit: BandwidthLimit, signal: AbortSignal | undefined): Promise<Buffer> {
  const parts: Buffer[] = [];
  if (response.body) for await (const part of throttle(response.body, limit, signal)) parts.push(part);
  return Buffer.concat(parts);
}
