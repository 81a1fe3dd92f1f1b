import { createTRPCClient, createWSClient, TRPCClientError, wsLink } from '@trpc/client';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { PlexliftError } from '@plexlift/shared';
import {
  AgentClaimSchema,
  AgentJobSchema,
  AUTH_REFUSED_CLOSE_CODE,
  clipAgentEvent,
  PROTOCOL_VERSION,
  type AgentClaim,
  type AgentCommand,
  type AgentEvent,
  type AgentJob,
  type AgentRootRouter,
} from '@plexlift/shared/protocol';
import { backoffDelay, raceSignal, retry } from '@plexlift/shared/retry';
import { PinnedTls } from '@plexlift/shared/tls';
import type { HomeFetch } from './home-fetch.js';
import type { Journal } from './journal.js';

export interface HomeConnectionOptions {
  /** `ws://…` or `wss://…` of the controller's agent endpoint. */
  url: string;
  /**
   * SHA-256 of the controller's self-signed certificate: every TLS connection home (the socket
   * and the data plane) is checked against it before anything is sent. Without it, `wss://` is
   * checked against the system's CAs (a tunnel with a real certificate).
   */
  fingerprint?: string | undefined;
  jobId: string;
  agentVersion: string;
  /** Evaluated on every (re)connect, so a renewed token is picked up. */
  token: () => string | Promise<string>;
  journal: Journal;
  onCommand: (command: AgentCommand) => void;
  /** Between reconnect attempts. @default 250 ms doubling to 10 s */
  retryDelayMs?: (attempt: number) => number;
  /** Silence before a ping, and how long a pong may take. @default 5 s / 2 s */
  keepAlive?: { intervalMs: number; pongTimeoutMs: number };
}

/**
 * ws waits up to 30 s (its default `closeTimeout`) for a closing handshake with a hung peer
 * before the reconnect starts; 1 s is enough (agent-protocol.md §1.8).
 */
// closeTimeout exists in ws 8.23 but not yet in its type definitions.
const QUICK_CLOSE = { closeTimeout: 1_000 } as WebSocket.ClientOptions;

class QuickCloseWebSocket extends WebSocket {
  constructor(address: string | URL, protocols?: string | string[]) {
    super(address, protocols, QUICK_CLOSE);
  }
}

/** What the phases use of the line home (tests stand in for it). */
export type HomeLine = Pick<HomeConnection, 'job' | 'claim' | 'fetch' | 'offlineForMs' | 'online'>;

/**
 * The agent's line home: one tRPC WebSocket that reconnects by itself, a `hello` with the
 * protocol version first, the command subscription resumed from the last command id, and
 * reports sent from the journal in order, each with its idempotency key, until home has them.
 */
export class HomeConnection {
  private readonly ws;
  private readonly client;
  private fatal: PlexliftError | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;
  private subscription: { unsubscribe(): void } | undefined;
  private readonly fatalError: Promise<never>;
  private rejectFatal!: (error: PlexliftError) => void;
  /** When the socket last dropped; undefined while it is open. */
  private offlineSince: number | undefined;
  private readonly onlineWaiters = new Set<() => void>();
  /** What home gave for the bootstrap token; used on every reconnect from then on (and kept in the journal). */
  private sessionToken: string | undefined;
  private readonly pin: PinnedTls | undefined;
  /** The data plane's fetch: through the pinned TLS when there is one. */
  readonly fetch: HomeFetch;

  constructor(private readonly options: HomeConnectionOptions) {
    this.sessionToken = options.journal.sessionToken;
    // A certificate that is not the pinned one stops the agent: retrying would only ask again.
    this.pin = options.fingerprint ? new PinnedTls(options.fingerprint, (error) => this.fail(error)) : undefined;
    this.fetch = this.pin ? this.pin.fetch : (url, init) => fetch(url, init);
    this.fatalError = new Promise<never>((_, reject) => (this.rejectFatal = reject));
    this.fatalError.catch(() => undefined); // observed through start() and drained()
    this.ws = createWSClient({
      url: options.url,
      WebSocket: (this.pin ? this.pin.webSocket(QUICK_CLOSE) : QuickCloseWebSocket) as unknown as typeof globalThis.WebSocket,
      connectionParams: async () => ({ token: this.sessionToken ?? (await options.token()), jobId: options.jobId }),
      retryDelayMs: options.retryDelayMs ?? ((attempt) => backoffDelay(attempt, { baseMs: 250, maxMs: 10_000 })),
      keepAlive: { enabled: true, ...(options.keepAlive ?? { intervalMs: 5_000, pongTimeoutMs: 2_000 }) },
      onOpen: () => {
        this.offlineSince = undefined;
        for (const wake of this.onlineWaiters) wake();
        this.onlineWaiters.clear();
      },
      onClose: (cause) => {
        this.offlineSince ??= Date.now();
        if (cause?.code === AUTH_REFUSED_CLOSE_CODE) {
          this.fail(new PlexliftError('AUTH_REFUSED', `the controller at ${options.url} refused this agent's token; it stops trying`));
        }
      },
    });
    this.client = createTRPCClient<AgentRootRouter>({ links: [wsLink({ client: this.ws })] });
  }

  /** Says hello (checking the protocol), subscribes to commands and sends what the journal holds. */
  async start(signal?: AbortSignal): Promise<void> {
    try {
      // A home out of reach is waited for (the client reconnects) until the agent is told to stop.
      const hello = await raceSignal(
        Promise.race([
          this.client.agent.hello.mutate({ protocolVersion: PROTOCOL_VERSION, agentVersion: this.options.agentVersion, jobId: this.options.jobId }),
          this.fatalError,
        ]),
        signal,
      );
      if (hello.sessionToken) this.sessionToken = this.options.journal.sessionToken = hello.sessionToken;
    } catch (error) {
      // The socket's close code (4401: refused) may land just after the call failed.
      if (signal?.aborted) throw error;
      await sleep(100);
      throw this.fatal ?? toConnectionError(error, this.options.url);
    }
    this.subscription = this.client.agent.commands.subscribe(
      { lastEventId: this.options.journal.lastCommandId ?? null },
      {
        onData: ({ id, data }) => {
          this.options.journal.lastCommandId = id;
          this.options.onCommand(data);
        },
        onError: () => {
          // The client resubscribes by itself after a reconnect, from the last id.
        },
      },
    );
    this.kick();
  }

  /**
   * The job, its secrets and the data plane's address. A call cut by a dropped line (home
   * restarting) is asked again once the line is back, for up to two minutes.
   */
  async job(): Promise<AgentJob> {
    const deadline = Date.now() + 120_000;
    try {
      return await retry(async () => AgentJobSchema.parse(await this.client.agent.job.query()), {
        backoff: { baseMs: 250, maxMs: 5_000 },
        retryIf: (error) => !isAnswer(error) && !this.fatal && Date.now() <= deadline,
      });
    } catch (error) {
      throw this.fatal ?? toConnectionError(error, this.options.url);
    }
  }

  /**
   * The plex.tv claim token for the Plex being started, asked in `plex-start`: home mints one per
   * start of that phase, so every journaled event (the phase's start among them) goes home first.
   * A call cut by a dropped line is asked again, and gets the same claim.
   */
  async claim(): Promise<AgentClaim> {
    const deadline = Date.now() + 120_000;
    try {
      await this.drained();
      return await retry(async () => AgentClaimSchema.parse(await this.client.agent.claim.mutate()), {
        backoff: { baseMs: 250, maxMs: 5_000 },
        retryIf: (error) => !isAnswer(error) && !this.fatal && Date.now() <= deadline,
      });
    } catch (error) {
      throw this.fatal ?? toConnectionError(error, this.options.url);
    }
  }

  /** Journals the event at once (cut to what home takes) and sends it when home can take it. */
  report(event: AgentEvent): void {
    this.options.journal.append(clipAgentEvent(event));
    this.kick();
  }

  /** How long home has been out of reach; 0 while the line is up. */
  offlineForMs(): number {
    return this.offlineSince === undefined ? 0 : Date.now() - this.offlineSince;
  }

  /** Resolves once the line is up again (at once when it is). */
  async online(signal?: AbortSignal): Promise<void> {
    if (this.offlineSince === undefined) return;
    signal?.throwIfAborted();
    await new Promise<void>((resolve, reject) => {
      const wake = () => {
        signal?.removeEventListener('abort', stop);
        resolve();
      };
      const stop = () => {
        this.onlineWaiters.delete(wake);
        reject(signal?.reason as Error);
      };
      this.onlineWaiters.add(wake);
      signal?.addEventListener('abort', stop, { once: true });
    });
  }

  /** Resolves when home has every journaled event. */
  async drained(): Promise<void> {
    while (this.options.journal.pendingCount() > 0) {
      if (this.fatal) throw this.fatal;
      this.kick();
      await (this.flushing ?? sleep(50));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.subscription?.unsubscribe();
    await this.ws.close();
    await this.pin?.close();
  }

  private kick(): void {
    this.flushing ??= this.flush().finally(() => (this.flushing = undefined));
  }

  private async flush(): Promise<void> {
    let attempt = 0;
    while (!this.closed && !this.fatal) {
      const batch = this.options.journal.unsent();
      if (batch.length === 0) return;
      let sending: (typeof batch)[number] | undefined;
      try {
        for (const entry of batch) {
          sending = entry;
          // A duplicate answer is fine: the controller had it from before a cut.
          await this.client.agent.report.mutate({ key: entry.key, event: entry.event });
          this.options.journal.markSent(entry.seq);
          attempt = 0;
        }
      } catch (error) {
        // Refused as it is (home's limits): asking again gets the same answer and would hold
        // back every later event, so it is left out.
        if (sending && isRefusedReport(error)) {
          this.options.journal.markSent(sending.seq);
          continue;
        }
        // In flight when the socket dropped: rejected here while home may have stored it; the
        // key makes the resend harmless. Wait for the reconnect before trying again.
        await sleep(backoffDelay(attempt++, { baseMs: 100, maxMs: 5_000 }));
      }
    }
  }

  private fail(error: PlexliftError): void {
    if (this.fatal) return;
    this.fatal = error;
    this.closed = true;
    this.rejectFatal(error);
    void this.ws.close();
  }
}

/** Home answered a report with a refusal of the report itself (not of the agent). */
function isRefusedReport(error: unknown): boolean {
  const code = error instanceof TRPCClientError ? (error.data as { code?: string } | undefined)?.code : undefined;
  return code === 'BAD_REQUEST' || code === 'TOO_MANY_REQUESTS';
}

/** A call home answered with an error (as opposed to cut): asking again gets the same answer. */
function isAnswer(error: unknown): boolean {
  return error instanceof TRPCClientError && error.data !== undefined && error.data !== null;
}

function toConnectionError(error: unknown, url: string): PlexliftError {
  if (error instanceof PlexliftError) return error;
  if (error instanceof TRPCClientError) {
    const code = (error.data as { code?: string } | undefined)?.code;
    if (code === 'PRECONDITION_FAILED' && /protocol version/.test(error.message)) {
      return new PlexliftError('PROTOCOL_MISMATCH', error.message, { cause: error });
    }
    if (code === 'UNAUTHORIZED') return new PlexliftError('AUTH_REFUSED', `the controller at ${url} refused this agent: ${error.message}`, { cause: error });
  }
  return new PlexliftError('CONTROLLER_UNREACHABLE', `cannot talk to the controller at ${url}: ${(error as Error).message}`, { cause: error });
}
