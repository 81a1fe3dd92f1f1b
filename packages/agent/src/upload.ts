import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { PlexliftError } from '@plexlift/shared';
import { fetchHome, refusalOf, type HomeFetch } from './home-fetch.js';
import { cutIntoChunks, DEFAULT_CHUNK_BYTES, type ArchiveChunk } from '@plexlift/shared/archive';

export interface UploadOptions {
  /** The controller's base URL (`http(s)://host:port`). */
  baseUrl: string;
  transferId: string;
  /** Session token; sent as a bearer header, never in a URL. */
  token: string;
  chunkBytes?: number;
  /** Chunks in flight at once: memory stays at `concurrency × chunkBytes`. @default 2 */
  concurrency?: number;
  /** Attempts per chunk before giving up. @default 8 */
  maxAttempts?: number;
  signal?: AbortSignal;
  /** How to reach home (the connection's pinned TLS). @default the global fetch */
  fetch?: HomeFetch | undefined;
  onProgress?: (progress: { chunks: number; bytes: number; skipped: number }) => void;
  /**
   * Awaited after the last chunk and before home is told the archive is whole: the producer
   * must have finished cleanly (a compressor killed halfway leaves a short stream that is
   * otherwise indistinguishable from a complete one).
   */
  beforeComplete?: () => Promise<void>;
  /** How long to wait for home through a cut before giving up. @default HOME_PATIENCE_MS */
  patienceMs?: number;
}

export interface UploadResult {
  chunks: number;
  bytes: number;
  sha256: string;
  /** Chunks home already held from an earlier attempt. */
  skipped: number;
}

/**
 * The client side of the chunk protocol (DESIGN.md, "Data plane"): the archive is cut as it
 * is produced and each chunk sent as soon as it exists, `PUT /transfers/{id}/chunks/{n}` with its
 * sha256; chunks home already holds (`GET /transfers/{id}`) are skipped, so a transfer resumes
 * after any cut; `POST /transfers/{id}/complete` names the whole digest, which home checks.
 */
export async function uploadArchive(stream: Readable, options: UploadOptions): Promise<UploadResult> {
  const base = `${options.baseUrl.replace(/\/+$/, '')}/transfers/${encodeURIComponent(options.transferId)}`;
  const headers = { Authorization: `Bearer ${options.token}` };
  const held = await heldChunks(base, headers, options);
  const whole: { sha256?: string; bytes?: number } = {};
  const inFlight = new Set<Promise<void>>();
  const result: UploadResult = { chunks: 0, bytes: 0, sha256: '', skipped: 0 };
  let failure: unknown;

  for await (const chunk of cutIntoChunks(stream, options.chunkBytes ?? DEFAULT_CHUNK_BYTES, whole)) {
    if (failure) break;
    result.chunks += 1;
    result.bytes += chunk.data.length;
    if (held.get(chunk.index) === chunk.sha256) {
      result.skipped += 1;
      continue;
    }
    const sending = sendChunk(base, headers, chunk, options)
      .then(() => options.onProgress?.({ chunks: result.chunks, bytes: result.bytes, skipped: result.skipped }))
      .catch((error: unknown) => {
        failure ??= error;
      })
      .finally(() => inFlight.delete(sending));
    inFlight.add(sending);
    if (inFlight.size >= (options.concurrency ?? 2)) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (failure) throw failure instanceof PlexliftError ? failure : new PlexliftError('CONTROLLER_UNREACHABLE', `upload of ${options.transferId} failed: ${(failure as Error).message}`);
  result.sha256 = whole.sha256 ?? '';
  await options.beforeComplete?.();

  const response = await fetchHome(`${base}/complete`, {
    method: 'POST',
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: JSON.stringify({ chunks: result.chunks, bytes: result.bytes, sha256: result.sha256 }),
    ...(options.signal ? { signal: options.signal } : {}),
  }, options.patienceMs, options.fetch);
  if (!response.ok) {
    throw new PlexliftError('SAFETY_STOP', `home refused the archive of ${options.transferId}: HTTP ${response.status} ${await response.text()}`, {
      details: { status: response.status },
    });
  }
  return result;
}

async function heldChunks(base: string, headers: Record<string, string>, options: UploadOptions): Promise<Map<number, string>> {
  const response = await fetchHome(base, { headers, ...(options.signal ? { signal: options.signal } : {}) }, options.patienceMs, options.fetch);
  if (response.status === 404) return new Map();
  if (response.status === 401) throw new PlexliftError('AUTH_REFUSED', 'home refused the upload token');
  if (!response.ok) throw new PlexliftError('CONTROLLER_UNREACHABLE', `home answered GET ${base} with HTTP ${response.status}`);
  const { chunks } = (await response.json()) as { chunks: { index: number; sha256: string }[] };
  return new Map(chunks.map((c) => [c.index, c.sha256]));
}

async function sendChunk(base: string, headers: Record<string, string>, chunk: ArchiveChunk, options: UploadOptions): Promise<void> {
  const attempts = options.maxAttempts ?? 8;
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    let problem: string;
    try {
      const response = await (options.fetch ?? fetch)(`${base}/chunks/${chunk.index}`, {
        method: 'PUT',
        headers: { ...headers, 'Content-Type': 'application/octet-stream', 'Content-Length': String(chunk.data.length), 'X-Plexlift-Chunk-Sha256': chunk.sha256 },
        // In slices, so TLS encrypts as the socket drains instead of queueing a whole encrypted
        // copy of the chunk (the agent's memory was several chunks deep).
        body: Readable.from(slices(chunk.data)),
        duplex: 'half',
        ...(options.signal ? { signal: options.signal } : {}),
      });
      if (response.ok) return;
      if (response.status === 401) throw new PlexliftError('AUTH_REFUSED', 'home refused the upload token');
      problem = `HTTP ${response.status}`;
    } catch (error) {
      if (error instanceof PlexliftError) throw error;
      options.signal?.throwIfAborted();
      const refused = refusalOf(error);
      if (refused) throw refused;
      problem = (error as Error).message;
    }
    if (attempt >= attempts) throw new PlexliftError('CONTROLLER_UNREACHABLE', `chunk ${chunk.index} could not be sent after ${attempts} attempts (${problem})`);
    await sleep(Math.min(200 * 2 ** (attempt - 1), 10_000));
  }
}

function* slices(data: Buffer, size = 1024 * 1024): Generator<Buffer> {
  for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size);
}
