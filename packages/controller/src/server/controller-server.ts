import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { AUTH_REFUSED_CLOSE_CODE, AUTH_TIMEOUT_CLOSE_CODE } from '@plexlift/shared/protocol';
import { matchTransferRoute } from '@plexlift/shared/transfer';
import type { ChunkTransfers } from '../transfers/chunk-transfers.js';
import type { TokenStore } from '../store/token-store.js';
import type { AppRouter } from './app-router.js';
import { bearerToken } from '@plexlift/shared/protocol';
import { authenticate, type Authentication } from './authenticate.js';
import { isSameOrigin, ORIGIN_REFUSED_CLOSE_CODE } from './dashboard-origins.js';
import { originOf, sessionIdOf } from './dashboard-routes.js';
import type { DashboardSessions } from './dashboard-sessions.js';
import { boundedJsonEncoder } from './bounded-json.js';
import { applyConnectionLimits, CONNECTION_LIMITS_DEFAULTS, type ConnectionLimits } from './connection-limits.js';
import type { ControllerContext } from './trpc.js';

export interface ControllerServerOptions {
  /** @default 0 (any free port; tests) */
  port?: number;
  /** @default '0.0.0.0' */
  host?: string;
  router: AppRouter;
  transfers: ChunkTransfers;
  tokens: TokenStore;
  adminToken: string;
  /** Server pings after this much silence and drops a peer that does not answer in `pongWaitMs`. @default 30 s / 5 s */
  keepAlive?: { pingMs: number; pongWaitMs: number };
  /** A refused connection or call, for the daemon's log (never the token itself). */
  onRefused?: (where: string, reason: string) => void;
  /** Other plain-HTTP routes (the agent bundle); each answers true when the request was its. */
  handlers?: ((req: IncomingMessage, res: ServerResponse) => boolean)[];
  /** HTTPS and WSS with this certificate; plain HTTP without. */
  tls?: { cert: string; key: string };
  /** A socket that has not shown a token by then is closed (4408). @default 10 s */
  authTimeoutMs?: number;
  /** @default CONNECTION_LIMITS_DEFAULTS */
  connectionLimits?: ConnectionLimits;
  /** The dashboard's sessions: a browser's WebSocket from this origin is let in by its cookie. */
  dashboardSessions?: DashboardSessions;
  /** Where the dashboard is reached besides this daemon's own addresses (server.publicUrl, server.dashboard.origins). */
  dashboardOrigins?: ReadonlySet<string>;
}

/**
 * The largest WebSocket message and tRPC HTTP body: calls and reports are small, archive chunks
 * travel over the data plane (ws would take 100 MiB per frame before any token was checked).
 */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

/** The most calls in one batch (the CLI and the agent send a handful at a time). */
export const MAX_BATCH_CALLS = 50;

export interface ControllerServer extends AsyncDisposable {
  /** `http(s)://host:port` of the data plane and the HTTP tRPC endpoint (`/trpc`). */
  url: string;
  /** `ws(s)://host:port` of the tRPC WebSocket. */
  wsUrl: string;
  port: number;
  /** Drops every WebSocket (tests: a network cut). */
  dropConnections(): void;
  close(): Promise<void>;
}

/**
 * One port for everything (DESIGN.md): the archive chunks over plain HTTP (`/transfers/…`),
 * tRPC over HTTP for tools that prefer it (`/trpc/…`, admin token as a bearer header), and tRPC
 * over WebSocket for agents and the CLI, authenticated once per connection from its
 * `connectionParams`. A refused token closes the socket with 4401 so an agent stops retrying.
 */
export async function startControllerServer(options: ControllerServerOptions): Promise<ControllerServer> {
  const refuse = options.onRefused ?? (() => undefined);
  const trpcHttp = createHTTPHandler({
    router: options.router,
    basePath: '/trpc/',
    maxBodySize: MAX_MESSAGE_BYTES,
    maxBatchSize: MAX_BATCH_CALLS,
    createContext: ({ req }): ControllerContext => {
      const token = bearerToken(req.headers);
      const auth = authenticate(token, { adminToken: options.adminToken, tokens: options.tokens });
      // Over HTTP only the admin: agents talk over their WebSocket.
      if (auth.ok && auth.context.admin) return auth.context;
      refuse('http', auth.ok ? 'agent token over HTTP' : auth.reason);
      return { admin: false, agent: undefined };
    },
  });
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const transfer = matchTransferRoute(new URL(req.url ?? '/', 'http://localhost').pathname);
    if (transfer) return options.transfers.handle(req, res, transfer);
    if (options.handlers?.some((handle) => handle(req, res))) return;
    if (path.startsWith('/trpc/')) return trpcHttp(req, res);
    if (path === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      return res.end('ok\n');
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found\n');
  };
  const server: Server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, listener) : createServer(listener);
  // A chunk on a slow link may take longer than Node's 300 s; the data plane cuts stalls itself.
  server.requestTimeout = Math.max(server.requestTimeout, options.transfers.requestTimeoutMs);
  applyConnectionLimits(server, options.connectionLimits ?? CONNECTION_LIMITS_DEFAULTS, refuse);
  // A larger frame closes the socket (1009) as soon as its header arrives, before it is read.
  const wss = new WebSocketServer({ server, maxPayload: MAX_MESSAGE_BYTES });
  const authenticated = new WeakSet<WebSocket>();
  const agentSockets = new Map<string, Set<WebSocket>>();
  const authTimeoutMs = options.authTimeoutMs ?? 10_000;
  wss.on('connection', (ws) => {
    // A socket that answers pings but never shows a token would otherwise stay open for good.
    const deadline = setTimeout(() => {
      if (authenticated.has(ws)) return;
      refuse('websocket', `no token within ${authTimeoutMs} ms`);
      ws.close(AUTH_TIMEOUT_CLOSE_CODE, 'authenticate first');
      setTimeout(() => ws.terminate(), 1_000).unref();
    }, authTimeoutMs);
    ws.once('close', () => clearTimeout(deadline));
  });
  // A dashboard session that ends (sign-out, expiry) closes the sockets it opened: the check at
  // connection is not the last word.
  const dashboardSockets = new Map<string, Set<WebSocket>>();
  const stopSessionEnds = options.dashboardSessions?.onEnd((id) => {
    for (const ws of dashboardSockets.get(id) ?? []) ws.close(AUTH_REFUSED_CLOSE_CODE, 'the session is over');
  });
  // A job's end revokes its tokens: its agent's open sockets go with them (issue 16 item 4).
  const stopRevokes = options.tokens.onRevoke((jobId) => {
    for (const ws of agentSockets.get(jobId) ?? []) ws.close(AUTH_REFUSED_CLOSE_CODE, 'the job is over');
  });
  const handler = applyWSSHandler({
    wss,
    router: options.router,
    maxBatchSize: MAX_BATCH_CALLS,
    experimental_encoder: boundedJsonEncoder,
    keepAlive: { enabled: true, ...(options.keepAlive ?? { pingMs: 30_000, pongWaitMs: 5_000 }) },
    createContext: ({ req, info, res }): ControllerContext => {
      const auth: Authentication | OriginRefusal = info.connectionParams?.token
        ? authenticate(info.connectionParams.token, { adminToken: options.adminToken, tokens: options.tokens })
        : dashboardSession(req, options.dashboardSessions, options.dashboardOrigins);
      if (!auth.ok) {
        refuse('websocket', auth.reason);
        const origin = (auth as Partial<OriginRefusal>).closeCode !== undefined;
        res.close(origin ? ORIGIN_REFUSED_CLOSE_CODE : AUTH_REFUSED_CLOSE_CODE, origin ? 'another origin' : 'unauthorized');
        throw new Error('unauthorized');
      }
      authenticated.add(res);
      const sessionId = auth.context.dashboardSessionId;
      if (sessionId !== undefined) {
        const sockets = dashboardSockets.get(sessionId) ?? new Set();
        dashboardSockets.set(sessionId, sockets.add(res));
        res.once('close', () => {
          sockets.delete(res);
          if (sockets.size === 0) dashboardSockets.delete(sessionId);
        });
      }
      const agent = auth.context.agent;
      if (agent) {
        const sockets = agentSockets.get(agent.jobId) ?? new Set();
        agentSockets.set(agent.jobId, sockets.add(res));
        res.once('close', () => {
          sockets.delete(res);
          if (sockets.size === 0 && agentSockets.get(agent.jobId) === sockets) agentSockets.delete(agent.jobId);
        });
      }
      return auth.context;
    },
  });
  // ws re-emits the server's errors on itself; the server's own listener below deals with them.
  wss.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '0.0.0.0', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host && options.host !== '0.0.0.0' ? (options.host.includes(':') ? `[${options.host}]` : options.host) : '127.0.0.1';
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    stopRevokes();
    stopSessionEnds?.();
    // Agents reconnect on their own to whoever listens next (a restarted controller).
    handler.broadcastReconnectNotification();
    for (const client of wss.clients) client.terminate();
    wss.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    url: `${options.tls ? 'https' : 'http'}://${host}:${port}`,
    wsUrl: `${options.tls ? 'wss' : 'ws'}://${host}:${port}`,
    port,
    dropConnections: () => {
      for (const client of wss.clients) client.terminate();
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A dashboard socket refused for its page's address, with the code that says so. */
interface OriginRefusal {
  ok: false;
  reason: string;
  closeCode: typeof ORIGIN_REFUSED_CLOSE_CODE;
}

/**
 * A browser on the dashboard: its session cookie, on a WebSocket its own page opened (the Origin
 * check is the CSRF defence: the cookie alone would come along from any site's page). A page at
 * an address not this daemon's is refused with its own code (4403) before its cookie is looked
 * at, so it can say so rather than "signed out".
 */
function dashboardSession(
  req: IncomingMessage,
  sessions: DashboardSessions | undefined,
  origins: ReadonlySet<string> | undefined,
): Authentication | OriginRefusal {
  if (!sessions) return { ok: false, reason: 'no token' };
  const id = sessionIdOf(req);
  // Neither a cookie nor an Origin: not a browser's page, just a client without a token.
  if (id === undefined && req.headers.origin === undefined) return { ok: false, reason: 'no token' };
  if (!isSameOrigin(req, origins))
    return { ok: false, reason: `a dashboard socket from another origin (${originOf(req)})`, closeCode: ORIGIN_REFUSED_CLOSE_CODE };
  if (id === undefined) return { ok: false, reason: 'no token' };
  const session = sessions.find(id);
  if (!session) return { ok: false, reason: 'an expired or unknown dashboard session' };
  return { ok: true, context: { admin: session.role === 'admin', viewer: true, agent: undefined, dashboardSessionId: session.id } };
}
