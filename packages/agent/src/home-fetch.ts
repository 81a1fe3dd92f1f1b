import { setTimeout as sleep } from 'node:timers/promises';
import { PlexliftError } from '@plexlift/shared';

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
  for (let attempt = 1; ; attempt++) {
    try {
      return await via(url, init);
    } catch (error) {
      if (init.signal?.aborted) throw error;
      const refused = refusalOf(error);
      if (refused) throw refused;
      if (Date.now() >= deadline) {
        throw new PlexliftError('CONTROLLER_UNREACHABLE', `cannot reach home at ${new URL(url).origin}: ${(error as Error).message}`, { cause: error });
      }
      await sleep(Math.min(200 * 2 ** (attempt - 1), 5_000, Math.max(deadline - Date.now(), 0)), undefined, init.signal ? { signal: init.signal } : {});
    }
  }
}
