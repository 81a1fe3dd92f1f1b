import { z } from 'zod';

/**
 * The data plane's contract (DESIGN.md, "Data plane"): archives travel over plain HTTP on the
 * controller's port in checksummed chunks, resumable after any cut. The agent is its client
 * (upload, and download for `restore`), the controller its server; both build on what is here.
 */

/** The chunk size an archive is cut into unless a caller says otherwise: 64 MiB. */
export const TRANSFER_CHUNK_BYTES = 64 * 1024 * 1024;

/** The largest chunk home accepts (a request body is staged whole before it counts): 256 MiB. */
export const MAX_TRANSFER_CHUNK_BYTES = 256 * 1024 * 1024;

/** The smallest chunk an agent cuts an archive into (on a slow link): 1 MiB. Only the last may be shorter. */
export const MIN_TRANSFER_CHUNK_BYTES = 1024 * 1024;

/** The largest archive one transfer holds: 2 TiB (a library's DBs and bundles are far less). */
export const MAX_TRANSFER_ARCHIVE_BYTES = 2 * 1024 ** 4;

/**
 * The slowest a chunk may arrive and still count: 64 KiB/s. Home allows a chunk request
 * `maxChunkBytes / MIN_TRANSFER_BYTES_PER_SECOND` in all (68 min for 256 MiB), and cuts one that
 * sends nothing for {@link TRANSFER_STALL_MS}.
 */
export const MIN_TRANSFER_BYTES_PER_SECOND = 64 * 1024;

/** A chunk request that sends no byte for this long is cut: 60 s. */
export const TRANSFER_STALL_MS = 60_000;

/**
 * The chunk size for a link that moved `bytesPerSecond`: about a minute's worth (a cut loses at
 * most that much), in whole MiB, from {@link MIN_TRANSFER_CHUNK_BYTES} to {@link TRANSFER_CHUNK_BYTES}.
 */
export function chunkBytesForRate(bytesPerSecond: number): number {
  const minute = Math.floor((bytesPerSecond * 60) / MIN_TRANSFER_CHUNK_BYTES) * MIN_TRANSFER_CHUNK_BYTES;
  return Math.min(Math.max(minute, MIN_TRANSFER_CHUNK_BYTES), TRANSFER_CHUNK_BYTES);
}

/** How many chunks a transfer may hold: its largest archive cut into its smallest chunks. */
export function maxTransferChunks(maxArchiveBytes = MAX_TRANSFER_ARCHIVE_BYTES, minChunkBytes = MIN_TRANSFER_CHUNK_BYTES): number {
  return Math.ceil(maxArchiveBytes / minChunkBytes);
}

/** Carries a chunk's sha256 (64 lowercase hex digits) with its body, on a `PUT` and a `GET`. */
export const CHUNK_SHA256_HEADER = 'X-Plexlift-Chunk-Sha256';

/** The data plane's paths, relative to the controller's base URL. */
export const TRANSFER_PATHS = {
  /** `GET`: the chunks home holds (a {@link TransferListing}). */
  listing: (transferId: string) => `/transfers/${encodeURIComponent(transferId)}`,
  /** `PUT` (export) or `GET` (restore) one chunk, with {@link CHUNK_SHA256_HEADER}. */
  chunk: (transferId: string, index: number) => `/transfers/${encodeURIComponent(transferId)}/chunks/${index}`,
  /** `POST` a {@link TransferCompletion}: home checks the whole digest. */
  complete: (transferId: string) => `/transfers/${encodeURIComponent(transferId)}/complete`,
} as const;

/**
 * Which data-plane call a request path names. A chunk's `index` is `NaN` when the path's index
 * is not a plain decimal integer (`-1`, `1.5`, `1e23`): the server refuses it by name.
 */
export type TransferRoute = { transferId: string } & ({ call: 'listing' } | { call: 'chunk'; index: number } | { call: 'complete' });

const ROUTE = /^\/transfers\/([\w-]+)(?:\/chunks\/([^/]+)|\/(complete))?$/;

/** The data-plane call a path (without its query) names; undefined for any other path. */
export function matchTransferRoute(pathname: string): TransferRoute | undefined {
  const match = ROUTE.exec(pathname);
  if (!match) return undefined;
  const transferId = match[1]!;
  if (match[2] !== undefined) return { transferId, call: 'chunk', index: chunkIndexOf(match[2]) };
  return match[3] ? { transferId, call: 'complete' } : { transferId, call: 'listing' };
}

/** A path's chunk index: a decimal integer within the safe range, else `NaN`. */
function chunkIndexOf(text: string): number {
  const index = /^(0|[1-9]\d{0,15})$/.test(text) ? Number(text) : Number.NaN;
  return Number.isSafeInteger(index) ? index : Number.NaN;
}

/** What `GET /transfers/{id}` answers: the chunks held, and once whole, its digest. */
export const TransferListingSchema = z.object({
  chunks: z.array(z.object({ index: z.number().int().nonnegative(), sha256: z.string() })),
  complete: z.literal(true).optional(),
  sha256: z.string().optional(),
});
export type TransferListing = z.infer<typeof TransferListingSchema>;

/** The body of `POST /transfers/{id}/complete`: what the sender made. */
export interface TransferCompletion {
  chunks: number;
  bytes: number;
  sha256: string;
}

/** What a `507` to a chunk `PUT` says: home's disk has no room for it now (the agent waits, then sends it again). */
export const TransferNoRoomSchema = z.object({
  error: z.string(),
  /** Bytes free for transfers, after the chunks in flight. */
  free: z.number().nonnegative(),
  /** Bytes the chunk needs free: its length and the space home keeps free. */
  needed: z.number().nonnegative(),
});
export type TransferNoRoom = z.infer<typeof TransferNoRoomSchema>;
