import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { PlexliftError } from '@plexlift/shared';
import { fetchHome, refusalOf, type HomeFetch } from './home-fetch.js';

export interface DownloadOptions {
  baseUrl: string;
  transferId: string;
  token: string;
  /** Attempts per chunk (cuts, digest mismatches). @default 8 */
  maxAttempts?: number;
  signal?: AbortSignal;
  /** How to reach home (the connection's pinned TLS). @default the global fetch */
  fetch?: HomeFetch | undefined;
  onProgress?: (progress: { chunks: number; of: number; bytes: number }) => void;
}

interface TransferListing {
  chunks: { index: number; sha256: string }[];
  sha256?: string;
  complete?: boolean;
}

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
  const base = `${options.baseUrl.replace(/\/+$/, '')}/transfers/${encodeURIComponent(options.transferId)}`;
  const headers = { Authorization: `Bearer ${options.token}` };
  const listing = await getJson<TransferListing>(base, headers, options);
  if (!listing.complete || !listing.sha256) {
    throw new PlexliftError('CONTROLLER_UNREACHABLE', `home has no complete snapshot ${options.transferId} yet`);
  }
  const ordered = [...listing.chunks].sort((a, b) => a.index - b.index);
  if (ordered.some((chunk, i) => chunk.index !== i)) throw new PlexliftError('SAFETY_STOP', `snapshot ${options.transferId} has missing chunks`);
  const whole = createHash('sha256');
  let bytes = 0;
  for (const chunk of ordered) {
    const data = await fetchChunk(`${base}/chunks/${chunk.index}`, chunk.sha256, headers, options);
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

async function fetchChunk(url: string, sha256: string, headers: Record<string, string>, options: DownloadOptions): Promise<Buffer> {
  const attempts = options.maxAttempts ?? 8;
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    let problem: string;
    try {
      const response = await (options.fetch ?? fetch)(url, { headers, ...(options.signal ? { signal: options.signal } : {}) });
      if (response.status === 401) throw new PlexliftError('AUTH_REFUSED', 'home refused the restore token');
      if (response.ok) {
        const data = Buffer.from(await response.arrayBuffer());
        if (createHash('sha256').update(data).digest('hex') === sha256) return data;
        problem = 'sha256 mismatch';
      } else {
        problem = `HTTP ${response.status}`;
      }
    } catch (error) {
      if (error instanceof PlexliftError) throw error;
      options.signal?.throwIfAborted();
      const refused = refusalOf(error);
      if (refused) throw refused;
      problem = (error as Error).message;
    }
    if (attempt >= attempts) throw new PlexliftError('CONTROLLER_UNREACHABLE', `${url} could not be fetched after ${attempts} attempts (${problem})`);
    await sleep(Math.min(200 * 2 ** (attempt - 1), 10_000));
  }
}

async function getJson<T>(url: string, headers: Record<string, string>, options: DownloadOptions): Promise<T> {
  const response = await fetchHome(url, { headers, ...(options.signal ? { signal: options.signal } : {}) }, undefined, options.fetch);
  if (response.status === 401) throw new PlexliftError('AUTH_REFUSED', 'home refused the restore token');
  if (!response.ok) throw new PlexliftError('CONTROLLER_UNREACHABLE', `home answered GET ${url} with HTTP ${response.status}`);
  return (await response.json()) as T;
}
