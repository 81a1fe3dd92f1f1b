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

/** Which data-plane call a request path names. */
export type TransferRoute = { transferId: string } & ({ call: 'listing' } | { call: 'chunk'; index: number } | { call: 'complete' });

const ROUTE = /^\/transfers\/([\w-]+)(?:\/chunks\/(\d+)|\/(complete))?$/;

/** The data-plane call a path (without its query) names; undefined for any other path. */
export function matchTransferRoute(pathname: string): TransferRoute | undefined {
  const match = ROUTE.exec(pathname);
  if (!match) return undefined;
  const transferId = match[1]!;
  if (match[2] !== undefined) return { transferId, call: 'chunk', index: Number(match[2]) };
  return match[3] ? { transferId, call: 'complete' } : { transferId, call: 'listing' };
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
