import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink, type TRPCClient } from '@trpc/client';
import WebSocket from 'ws';
import { bearerHeader, toWebSocketUrl } from '@plexlift/shared/protocol';
import { PinnedTls } from '@plexlift/shared/tls';
import type { AppRouter } from './server/app-router.js';

export type { AppRouter } from './server/app-router.js';

/** The fetch tRPC's HTTP link takes (its own loose type). */
type BatchFetch = NonNullable<Parameters<typeof httpBatchLink>[0]['fetch']>;

export type ControllerClient = TRPCClient<AppRouter> & { close: () => Promise<void> };

export interface ControllerClientOptions {
  /** The controller's `http(s)://host:port`. */
  url: string;
  /** The admin token (never put it in a URL: it travels in a header and the socket's first message). */
  token: string;
  /**
   * The SHA-256 fingerprint of the daemon's self-signed certificate (`plexlift serve` prints it;
   * `<stateDir>/tls/cert.pem` holds it): an `https://` daemon is trusted by this pin alone.
   * Without it, `https://` is checked against the system's CAs.
   */
  fingerprint?: string;
}

/**
 * A typed client of the controller for the CLI and other tools: queries and mutations over
 * HTTP, subscriptions (job events) over the WebSocket. `close()` ends the socket.
 *
 * @example
 * const plexlift = createControllerClient({ url: 'https://zimaboard:7878', token, fingerprint });
 * const jobs = await plexlift.jobs.list.query();
 */
export function createControllerClient(options: ControllerClientOptions): ControllerClient {
  const base = options.url.replace(/\/+$/, '');
  const pin = options.fingerprint && base.startsWith('https:') ? new PinnedTls(options.fingerprint) : undefined;
  // Lazy: the socket opens with the first subscription and closes a second after the last one.
  const ws = createWSClient({
    url: toWebSocketUrl(base),
    WebSocket: (pin ? pin.webSocket() : WebSocket) as unknown as typeof globalThis.WebSocket,
    connectionParams: { token: options.token },
    lazy: { enabled: true, closeMs: 1_000 },
  });
  const client = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: wsLink<AppRouter>({ client: ws }),
        false: httpBatchLink({ url: `${base}/trpc`, headers: bearerHeader(options.token), ...(pin ? { fetch: pin.fetch as unknown as BatchFetch } : {}) }),
      }),
    ],
  });
  // The tRPC client is itself a proxy (any key is a path): `close` is answered before it.
  const close = async () => {
    await ws.close();
    await pin?.close();
  };
  return new Proxy(client, { get: (target, key) => (key === 'close' ? close : (Reflect.get(target, key) as unknown)) }) as ControllerClient;
}
