import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { isPlexliftError, PlexliftError } from '@plexlift/shared';
import { backoffDelay } from '@plexlift/shared/retry';
import { cutIntoChunks, type ArchiveChunk } from '@plexlift/shared/archive';
import { CHUNK_SHA256_HEADER, TRANSFER_CHUNK_BYTES, TRANSFER_PATHS, type TransferCompletion } from '@plexlift/shared/transfer';
import { BandwidthLimit, throttle } from './bandwidth-limit.js';
import { bearerHeaders, getListing, requestChunk, transferUrl, type TransferAddress } from './chunk-client.js';
import { fetchHome } from './home-fetch.js';

export interface UploadOptions extends TransferAddress {
  /** @default TRANSFER_CHUNK_BYTES */
  chunkBytes?: number;
  /**
   * Chunks in flight at once: memory stays at `concurrency × chunkBytes`. @default 2, and 1 under
   * a `bwlimitBytesPerSecond` (the limit, not the round trips, sets the pace then, and each chunk
   * gets the whole rate: home cuts one slower than 64 KiB/s, the least a limit may be)
   */
  concurrency?: number;
  /** The job's `--bwlimit`: the most bytes per second sent, over all the chunks in flight. */
  bwlimitBytesPerSecond?: number | undefined;
  /** Attempts per chunk before giving up. @default 8 */
  maxAttempts?: number;
  /** After each chunk home took: chunks and bytes cut so far, chunks home already held, bytes home took in this call. */
  onProgress?: (progress: { chunks: number; bytes: number; skipped: number; sentBytes: number }) => void;
  /**
   * Awaited after the last chunk and before home is told the archive is whole: the producer
   * must have finished cleanly (a compressor killed halfway leaves a short stream that is
   * otherwise indistinguishable from a complete one).
   */
  beforeComplete?: () => Promise<void>;
  /** How long to wait for home through a cut before giving up. @default HOME_PATIENCE_MS */
  patienceMs?: number;
  /**
   * How long a chunk waits for room on home's disk (507), asking again with backoff from
   * `pollMs` up to `maxPollMs`, before the upload stops with `DISK_FULL`. @default 30 min, 5 s to 60 s
   */
  room?: { waitMs: number; pollMs?: number; maxPollMs?: number };
  /** Called each time home says it has no room, before the wait: say so (the VM bills meanwhile). */
  onNoRoom?: (wait: { free: number; needed: number; waitedMs: number; leftMs: number }) => void;
}

export interface UploadResult {
  chunks: number;
  bytes: number;
  sha256: string;
  /** Chunks home already held from an earlier attempt. */
  skipped: number;
}

const REFUSED = 'home refused the upload token';

/**
 * The client side of the chunk protocol (DESIGN.md, "Data plane"): the archive is cut as it
 * is produced and each chunk sent as soon as it exists, `PUT /transfers/{id}/chunks/{n}` with its
 * sha256; chunks home already holds (`GET /transfers/{id}`) are skipped, so a transfer resumes
 * after any cut; `POST /transfers/{id}/complete` names the whole digest, which home checks.
 */
export async function uploadArchive(stream: Readable, options: UploadOptions): Promise<UploadResult> {
  const listing = await getListing(options, { refusal: REFUSED, patienceMs: options.patienceMs });
  const held = new Map((listing?.chunks ?? []).map((c) => [c.index, c.sha256]));
  const whole: { sha256?: string; bytes?: number } = {};
  const inFlight = new Set<Promise<void>>();
  const result: UploadResult = { chunks: 0, bytes: 0, sha256: '', skipped: 0 };
  let sentBytes = 0;
  let failure: unknown;
  const limit = options.bwlimitBytesPerSecond ? new BandwidthLimit(options.bwlimitBytesPerSecond) : undefined;
  const concurrency = options.concurrency ?? (limit ? 1 : 2);

  for await (const chunk of cutIntoChunks(stream, options.chunkBytes ?? TRANSFER_CHUNK_BYTES, whole)) {
    if (failure) break;
    result.chunks += 1;
    result.bytes += chunk.data.length;
    if (held.get(chunk.index) === chunk.sha256) {
      result.skipped += 1;
      continue;
    }
    const sending = sendWhenRoom(chunk, options, limit)
      .then(() => options.onProgress?.({ chunks: result.chunks, bytes: result.bytes, skipped: result.skipped, sentBytes: (sentBytes += chunk.data.length) }))
      .catch((error: unknown) => {
        failure ??= error;
      })
      .finally(() => inFlight.delete(sending));
    inFlight.add(sending);
    if (inFlight.size >= concurrency) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (failure)
    throw failure instanceof PlexliftError
      ? failure
      : new PlexliftError('CONTROLLER_UNREACHABLE', `upload of ${options.transferId} failed: ${(failure as Error).message}`);
  result.sha256 = whole.sha256 ?? '';
  await options.beforeComplete?.();

  const completion: TransferCompletion = { chunks: result.chunks, bytes: result.bytes, sha256: result.sha256 };
  const response = await fetchHome(
    transferUrl(options, TRANSFER_PATHS.complete),
    {
      method: 'POST',
      headers: { ...bearerHeaders(options), 'Content-Type': 'application/json' },
      body: JSON.stringify(completion),
      ...(options.signal ? { signal: options.signal } : {}),
    },
    options.patienceMs,
    options.fetch,
  );
  if (!response.ok) {
    throw new PlexliftError('SAFETY_STOP', `home refused the archive of ${options.transferId}: HTTP ${response.status} ${await response.text()}`, {
      details: { status: response.status },
    });
  }
  return result;
}

/**
 * Sends a chunk, and while home's disk has no room for it (507) waits and sends the same chunk
 * again: the transfer goes on where it stood (the chunks home holds stay, nothing is archived
 * again; the archive's producer waits meanwhile). After `room.waitMs` it stops with `DISK_FULL`.
 */
async function sendWhenRoom(chunk: ArchiveChunk, options: UploadOptions, limit: BandwidthLimit | undefined): Promise<void> {
  const { waitMs, pollMs = 5_000, maxPollMs = 60_000 } = options.room ?? { waitMs: 30 * 60_000 };
  const started = performance.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await sendChunk(chunk, options, limit);
    } catch (error) {
      if (!isPlexliftError(error, 'DISK_FULL')) throw error;
      const waitedMs = Math.round(performance.now() - started);
      const leftMs = waitMs - waitedMs;
      const { free, needed } = error.details as { free: number; needed: number };
      if (leftMs <= 0) {
        throw new PlexliftError('DISK_FULL', `${error.message}; home had no room for ${Math.round(waitedMs / 1000)} s, so the upload stopped`, {
          details: { ...error.details, waitedMs },
        });
      }
      options.onNoRoom?.({ free, needed, waitedMs, leftMs });
      await sleep(Math.min(backoffDelay(attempt, { baseMs: pollMs, maxMs: maxPollMs }), leftMs), undefined, options.signal ? { signal: options.signal } : {});
    }
  }
}

function sendChunk(chunk: ArchiveChunk, options: UploadOptions, limit: BandwidthLimit | undefined): Promise<void> {
  return requestChunk(
    options,
    {
      url: transferUrl(options, (id) => TRANSFER_PATHS.chunk(id, chunk.index)),
      init: () => ({
        method: 'PUT',
        headers: {
          ...bearerHeaders(options),
          'Content-Type': 'application/octet-stream',
          'Content-Length': String(chunk.data.length),
          [CHUNK_SHA256_HEADER]: chunk.sha256,
        },
        // In slices, so TLS encrypts as the socket drains: a chunk handed over whole is queued
        // as a whole encrypted copy, and the agent's memory grows by a chunk for each.
        body: Readable.from(limit ? throttle(slices(chunk.data), limit, options.signal) : slices(chunk.data)),
        duplex: 'half',
      }),
      read: () => Promise.resolve(),
      refusal: REFUSED,
      failure: `chunk ${chunk.index} could not be sent`,
    },
    options.maxAttempts,
  );
}

function* slices(data: Buffer, size = 1024 * 1024): Generator<Buffer> {
  for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size);
}
