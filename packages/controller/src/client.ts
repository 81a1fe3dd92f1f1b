import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink, type TRPCClient } from '@trpc/client';
import WebSocket from 'ws';
import type { AppRouter } from './server/app-router.js';

export type { AppRouter } from './server/app-router.js';

export type ControllerClient = TRPCClient<AppRouter> & { close: () => Promise<void> };

export interface ControllerClientOptions {
  /** The controller's `http(s)://host:port`. */
  url: string;
  /** The admin token (never put it in a URL: it travels in a header and the socket's first message). */
  token: string;
}

/**
 * A typed client of the controller for the CLI and other tools: queries and mutations over
 * HTTP, subscriptions (job events) over the WebSocket. `close()` ends the socket.
 *
 * @example
 * const plexlift = createControllerClient({ url: 'http://zimaboard:7878', token });
 * const jobs = await plexlift.jobs.list.query();
 */
export function createControllerClient(options: ControllerClientOptions): ControllerClient {
  const base = options.url.replace(/\/+$/, '');
  // Lazy: the socket opens with the first subscription and closes a second after the last one.
  const ws = createWSClient({
    url: base.replace(/^http/, 'ws'),
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    connectionParams: { token: options.token },
    lazy: { enabled: true, closeMs: 1_000 },
  });
  const client = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: wsLink<AppRouter>({ client: ws }),
        false: httpBatchLink({ url: `${base}/trpc`, headers: { Authorization: `Bearer ${options.token}` } }),
      }),
    ],
  });
  // The tRPC client is itself a proxy (any key is a path): `close` is answered before it.
  return new Proxy(client, { get: (target, key) => (key === 'close' ? () => ws.close() : (Reflect.get(target, key) as unknown)) }) as ControllerClient;
}
