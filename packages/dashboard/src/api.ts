import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import type { inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '@plexlift/controller/client';

export type Outputs = inferRouterOutputs<AppRouter>;
export type JobSummary = Outputs['jobs']['list'][number];
export type JobDetail = Outputs['jobs']['get'];

/**
 * Why the line to the daemon is down: signed out (its session refused), opened at an address the
 * daemon does not know as its own (its Origin refused), or just away (it retries).
 */
export type LineState = 'connecting' | 'open' | 'signed-out' | 'other-origin' | 'away';

/** The close code the daemon gives a socket whose session it refuses (AUTH_REFUSED_CLOSE_CODE). */
const REFUSED = 4401;
/** The close code the daemon gives a socket from a page at another address (ORIGIN_REFUSED_CLOSE_CODE). */
const OTHER_ORIGIN = 4403;

/** What the page says when the daemon refuses its address: signing in again would not help. */
export const OTHER_ORIGIN_TEXT =
  'This page was opened at an address the daemon does not know as its own, so it refuses it. Open the address plexlift dashboard prints; behind a reverse proxy, set server.publicUrl (or server.dashboard.origins) to the proxy’s address.';

/**
 * The daemon's own tRPC API over its WebSocket, as every other tool uses it: the browser sends the
 * session cookie with the upgrade, so no token is ever in the page, a URL or the storage.
 */
export function connect(onState: (state: LineState) => void) {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  let refused = false;
  const ws = createWSClient({
    // The page's own folder: under a proxy's path (`/plexlift/`) the socket goes through the same path.
    url: `${scheme}://${location.host}${location.pathname.replace(/[^/]*$/, '')}`,
    onOpen: () => onState('open'),
    onClose: (cause) => {
      refused = cause?.code === REFUSED || cause?.code === OTHER_ORIGIN;
      onState(cause?.code === OTHER_ORIGIN ? 'other-origin' : refused ? 'signed-out' : 'away');
    },
    // A refused session is not tried again (the daemon would refuse it again).
    retryDelayMs: (attempt) => (refused ? 24 * 3_600_000 : Math.min(30_000, 1_000 * 2 ** attempt)),
  });
  const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: ws })] });
  return { client, close: () => ws.close() };
}

export type DaemonClient = ReturnType<typeof connect>['client'];
