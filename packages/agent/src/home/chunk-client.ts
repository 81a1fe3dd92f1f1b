import { PlexliftError } from '@plexlift/shared';
import { bearerHeader } from '@plexlift/shared/protocol';
import { retry } from '@plexlift/shared/retry';
import { formatBytes } from '@plexlift/shared/plex-db';
import { TRANSFER_PATHS, TransferListingSchema, TransferNoRoomSchema, type TransferListing } from '@plexlift/shared/transfer';
import { fetchHome, refusalOf, type HomeFetch } from './home-fetch.js';

/** How the agent reaches one transfer of the data plane. */
export interface TransferAddress {
  /** The controller's base URL (`http(s)://host:port`). */
  baseUrl: string;
  transferId: string;
  /** Session token; sent as a bearer header, never in a URL. */
  token: string;
  signal?: AbortSignal | undefined;
  /** How to reach home (the connection's pinned TLS). @default the global fetch */
  fetch?: HomeFetch | undefined;
}

/** The full URL of a data-plane path of this transfer. */
export function transferUrl(address: TransferAddress, path: (transferId: string) => string): string {
  return `${address.baseUrl.replace(/\/+$/, '')}${path(address.transferId)}`;
}

/** The session token as a bearer header. */
export function bearerHeaders(address: TransferAddress): Record<string, string> {
  return bearerHeader(address.token);
}

/**
 * The chunks home holds of a transfer (`undefined` when it has none yet: 404), tried again while
 * home is out of reach for up to `patienceMs`. A 401 is `refusal`.
 */
export async function getListing(
  address: TransferAddress,
  options: { refusal: string; patienceMs?: number | undefined },
): Promise<TransferListing | undefined> {
  const url = transferUrl(address, TRANSFER_PATHS.listing);
  const response = await fetchHome(
    url,
    { headers: bearerHeaders(address), ...(address.signal ? { signal: address.signal } : {}) },
    options.patienceMs,
    address.fetch,
  );
  if (response.status === 404) return undefined;
  if (response.status === 401) throw new PlexliftError('AUTH_REFUSED', options.refusal);
  if (!response.ok) throw new PlexliftError('CONTROLLER_UNREACHABLE', `home answered GET ${url} with HTTP ${response.status}`);
  return TransferListingSchema.parse(await response.json());
}

export interface ChunkRequest<T> {
  url: string;
  /** The request's method, headers and body, made afresh for each attempt (a body stream is used up). */
  init: () => RequestInit;
  /** Reads a 2xx answer; throwing a plain Error (a damaged body) tries again. */
  read: (response: Response) => Promise<T>;
  /** What a 401 means: AUTH_REFUSED with this message. */
  refusal: string;
  /** What could not be done, for the error after the last attempt. */
  failure: string;
}

/**
 * Home's disk cannot take the chunk now (507): not a reachability problem, so not tried again
 * here; the sender waits for room and sends the same chunk again (`DISK_FULL`, with `free` and
 * `needed` in its details).
 */
async function noRoom(response: Response): Promise<PlexliftError> {
  const body = TransferNoRoomSchema.safeParse(await response.json().catch(() => undefined));
  const { free, needed } = body.success ? body.data : { free: 0, needed: 0 };
  return new PlexliftError('DISK_FULL', `home has no room for the archive: ${formatBytes(free)} free, ${formatBytes(needed)} needed`, {
    details: { status: 507, free, needed },
  });
}

/**
 * One chunk's request, tried again with backoff after a cut, an HTTP error or a damaged body, up
 * to `maxAttempts`; a refusal (the token, the certificate), a full home disk (507) and an abort end it at once.
 */
export async function requestChunk<T>(address: TransferAddress, request: ChunkRequest<T>, maxAttempts = 8): Promise<T> {
  try {
    return await retry(
      async () => {
        try {
          const response = await (address.fetch ?? fetch)(request.url, { ...request.init(), ...(address.signal ? { signal: address.signal } : {}) });
          if (response.status === 401) throw new PlexliftError('AUTH_REFUSED', request.refusal);
          if (response.status === 507) throw await noRoom(response);
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          return await request.read(response);
        } catch (error) {
          throw refusalOf(error) ?? error;
        }
      },
      {
        backoff: { baseMs: 200, maxMs: 10_000 },
        retryIf: (error, failures) => !(error instanceof PlexliftError) && failures < maxAttempts,
        signal: address.signal,
      },
    );
  } catch (error) {
    address.signal?.throwIfAborted();
    if (error instanceof PlexliftError) throw error;
    throw new PlexliftError('CONTROLLER_UNREACHABLE', `${request.failure} after ${maxAttempts} attempts (${(error as Error).message})`);
  }
}
