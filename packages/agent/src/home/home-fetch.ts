import { PlexliftError } from '@plexlift/shared';
import { retry } from '@plexlift/shared/retry';

/** The fetch the data plane goes through: the connection's (pinned TLS) or the global one. */
export type HomeFetch = (url: string, init: RequestInit) => Promise<Response>;

/**
 * A refusal that retrying cannot cure, from under fetch's "fetch failed": the controller's
 * certificate is not the pinned one.
 */
export function refusalOf(error: unknown): PlexliftError | undefined {
  const cause = (error as Error | undefined)?.cause;
  return cause instanceof PlexliftError && cause.code === 'AUTH_REFUSED' ? cause : undefined;
}

/** How long the data plane waits for home through a cut or a controller restart. @default 2 min */
export const HOME_PATIENCE_MS = 120_000;

/**
 * A fetch of the data plane's small calls (listings, completion), tried again with backoff while
 * home cannot be reached (a network cut, a controller restarting), up to `patienceMs`; then it
 * fails as what it is: home out of reach. An abort stays an abort.
 */
export async function fetchHome(url: string, init: RequestInit, patienceMs = HOME_PATIENCE_MS, via: HomeFetch = fetch): Promise<Response> {
  const deadline = Date.now() + patienceMs;
  try {
    return await retry(() => via(url, init), {
      backoff: { baseMs: 200, maxMs: 5_000 },
      retryIf: (error) => !refusalOf(error) && Date.now() < deadline,
      maxDelayMs: () => deadline - Date.now(),
      signal: init.signal ?? undefined,
    });
  } catch (error) {
    if (init.signal?.aborted) throw error;
    const refused = refusalOf(error);
    if (refused) throw refused;
    throw new PlexliftError('CONTROLLER_UNREACHABLE', `cannot reach home at ${new URL(url).origin}: ${(error as Error).message}`, { cause: error });
  }
}
