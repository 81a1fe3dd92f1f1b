import { TRPCError } from '@trpc/server';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import { EventEmitter, on } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import {
  AUTH_REFUSED_CLOSE_CODE,
  createAgentRootRouter,
  PROTOCOL_VERSION,
  type AgentApi,
  type AgentCommand,
  type AgentContext,
  type AgentEvent,
  type AgentJob,
} from '@plexlift/shared/protocol';

/**
 * A minimal controller for agent tests, until the controller issue lands: the real
 * `createAgentRootRouter` over a real WebSocket on loopback, an in-memory outbox of commands and an
 * idempotent report store. It counts what arrives, so tests can prove nothing was lost or
 * doubled.
 */
export interface AgentHome extends AsyncDisposable {
  url: string;
  /** Events stored, in arrival order, each once. */
  events: AgentEvent[];
  /** Reports that arrived again with a key already stored. */
  duplicates: number;
  /** Agent connections accepted so far (one more after each reconnect). */
  connections: number;
  /** For each claim asked, how many events home had stored by then. */
  claimAsks: number[];
  pushCommand(command: AgentCommand): void;
  /** Drops every agent socket (a network cut); the server stays up. */
  cutConnections(): void;
  /** Stops listening; `start()` listens again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startAgentHome(options: { tokens: string[]; port?: number; job?: AgentJob; claimToken?: string }): Promise<AgentHome> {
  const keys = new Set<string>();
  const outbox: { id: string; command: AgentCommand }[] = [];
  const emitter = new EventEmitter();
  const home = { events: [] as AgentEvent[], duplicates: 0, connections: 0, claimAsks: [] as number[] };

  const api: AgentApi = {
    hello: () => Promise.resolve({ protocolVersion: PROTOCOL_VERSION }),
    job: () => (options.job ? Promise.resolve(options.job) : Promise.reject(new TRPCError({ code: 'NOT_FOUND', message: 'no job for this agent' }))),
    claim: () => {
      home.claimAsks.push(home.events.length);
      return Promise.resolve(options.claimToken ? { claimToken: options.claimToken } : {});
    },
    async *commands(_ctx, lastEventId, signal) {
      // Listen before replaying, so nothing pushed during the replay is missed.
      const live = on(emitter, 'command', { signal });
      const after = lastEventId === undefined ? -1 : Number(lastEventId);
      for (const entry of outbox) if (Number(entry.id) > after) yield entry;
      try {
        for await (const [entry] of live) if (Number((entry as { id: string }).id) > after) yield entry as { id: string; command: AgentCommand };
      } catch (error) {
        if (!signal.aborted) throw error;
      }
    },
    report: (_ctx, input) => {
      if (keys.has(input.key)) {
        home.duplicates += 1;
        return Promise.resolve({ duplicate: true });
      }
      keys.add(input.key);
      home.events.push(input.event);
      return Promise.resolve({ duplicate: false });
    },
  };
  const router = createAgentRootRouter(api);

  let server: Server;
  let wss: WebSocketServer;
  let port = options.port ?? 0;
  const start = async () => {
    server = createServer();
    wss = new WebSocketServer({ server });
    applyWSSHandler<typeof router>({
      wss,
      router,
      keepAlive: { enabled: true, pingMs: 5_000, pongWaitMs: 2_000 },
      createContext: ({ info, res }): AgentContext => {
        const params = info.connectionParams ?? {};
        if (!params.token || !options.tokens.includes(params.token)) {
          // A distinct close code tells the agent that retrying cannot help.
          res.close(AUTH_REFUSED_CLOSE_CODE, 'unauthorized');
          throw new TRPCError({ code: 'UNAUTHORIZED', message: 'unknown agent token' });
        }
        home.connections += 1;
        return { agent: { jobId: params.jobId ?? 'job' } };
      },
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  };
  const stop = async () => {
    for (const client of wss.clients) client.terminate();
    wss.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  await start();
  return Object.assign(home, {
    url: `ws://127.0.0.1:${port}`,
    pushCommand: (command: AgentCommand) => {
      const entry = { id: String(outbox.length), command };
      outbox.push(entry);
      emitter.emit('command', entry);
    },
    cutConnections: () => {
      for (const client of wss.clients) client.terminate();
    },
    stop,
    start,
    close: stop,
    [Symbol.asyncDispose]: stop,
  });
}
