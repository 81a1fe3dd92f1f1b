import type { TLSSocket } from 'node:tls';
import type { Agent } from 'undici';
import WebSocket from 'ws';
import { PlexliftError } from '../errors.js';
import { normalizeFingerprint } from './fingerprint.js';

/** A WebSocket class as tRPC's `createWSClient` constructs it. */
export type WebSocketClass = new (address: string | URL, protocols?: string | string[]) => WebSocket;

/** What a pinned connection reports when the peer shows another certificate. */
export type PinMismatch = (error: PlexliftError) => void;

/**
 * Trust for a controller with a self-signed certificate: exactly the certificate whose SHA-256
 * fingerprint we were given, whatever its names (the agent dials a public IP or a forwarded port).
 * Nothing secret is sent before the check: fetch gets the socket only after it, and the WebSocket's
 * token travels in its first message, which a mismatch stops before it is sent.
 */
export class PinnedTls {
  readonly fingerprint: string;
  private dispatcher: Promise<Agent> | undefined;

  constructor(
    fingerprint: string,
    private readonly onMismatch?: PinMismatch,
  ) {
    this.fingerprint = normalizeFingerprint(fingerprint);
  }

  /** Undefined when the certificate is the pinned one, else the error to fail with. */
  check(socket: TLSSocket, url: string): PlexliftError | undefined {
    const seen = socket.getPeerCertificate().fingerprint256;
    if (seen === this.fingerprint) return undefined;
    const error = new PlexliftError(
      'AUTH_REFUSED',
      `${url} showed a certificate with fingerprint ${seen ?? '(none)'}, not the pinned ${this.fingerprint}; nothing was sent (a different controller, or someone in between)`,
    );
    this.onMismatch?.(error);
    return error;
  }

  /** A fetch whose TLS connections are checked against the pin before any request is written. */
  readonly fetch = async (url: string | URL, init?: RequestInit): Promise<Response> => {
    this.dispatcher ??= this.createDispatcher();
    const [{ default: undici }, dispatcher] = await Promise.all([import('undici'), this.dispatcher]);
    return undici.fetch(url, { ...(init as object), dispatcher });
  };

  /** A `ws` WebSocket class (for tRPC's `createWSClient`) that checks the pin on every (re)connect. */
  webSocket(options: WebSocket.ClientOptions = {}): WebSocketClass {
    const check = (socket: TLSSocket, url: string) => this.check(socket, url);
    return class PinnedWebSocket extends WebSocket {
      constructor(address: string | URL, protocols?: string | string[]) {
        super(address, protocols, { ...options, rejectUnauthorized: false });
        // The upgrade answer arrives before `open`, and tRPC sends the token only on `open`.
        this.once('upgrade', (response) => {
          const socket = response.socket as TLSSocket;
          if (typeof socket.getPeerCertificate !== 'function') return;
          if (check(socket, String(address))) this.terminate();
        });
      }
    };
  }

  async close(): Promise<void> {
    await (await this.dispatcher)?.close();
  }

  /** undici is loaded on the first fetch: a megabyte of code the daemon and most commands never run. */
  private async createDispatcher(): Promise<Agent> {
    // CommonJS: its exports are the default export of the dynamic import, bundled or not.
    const {
      default: { Agent, buildConnector },
    } = await import('undici');
    // No session resumption: a resumed TLS session shows no peer certificate to check.
    const connect = buildConnector({ rejectUnauthorized: false, maxCachedSessions: 0 });
    return new Agent({
      connect: (options, callback) =>
        connect(options, (error, socket) => {
          if (error || options.protocol !== 'https:') return error ? callback(error, null) : callback(null, socket);
          const mismatch = this.check(socket as TLSSocket, `${options.protocol}//${options.hostname}:${options.port}`);
          if (!mismatch) return callback(null, socket);
          socket.destroy();
          callback(mismatch, null);
        }),
    });
  }
}
