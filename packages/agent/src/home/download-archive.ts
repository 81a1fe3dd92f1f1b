import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { PlexliftError } from '@plexlift/shared';
import { TRANSFER_PATHS } from '@plexlift/shared/transfer';
import { bearerHeaders, getListing, requestChunk, transferUrl, type TransferAddress } from './chunk-client.js';

export interface DownloadOptions extends TransferAddress {
  /** Attempts per chunk (cuts, digest mismatches). @default 8 */
  maxAttempts?: number;
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
  for (const chunk of ordered) {
    const url = transferUrl(options, (id) => TRANSFER_PATHS.chunk(id, chunk.index));
    const data = await requestChunk(
      options,
      {
        url,
        init: () => ({ headers: bearerHeaders(options) }),
        read: async (response) => {
          const body = Buffer.from(await response.arrayBuffer());
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
