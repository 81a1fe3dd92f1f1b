import { createServer, request, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ObjectStoreProxy extends AsyncDisposable {
  url: string;
  /** Requests seen (reads and the rest). */
  requests: number;
  /** Bytes of objects sent to the client: what an object store would bill as egress. */
  bytesRead: number;
}

/**
 * A loopback HTTP proxy that holds every read of an object (`GET` of a file) `delayMs` before
 * passing it on: the first-byte latency of an object store (S3 answers in tens of milliseconds),
 * in front of a local server. Listings and `HEAD`s pass at once: S3 lists sizes with the keys, a
 * thousand per request, where rclone's http backend asks each file (a listing of 5,000 files took
 * minutes through the delay, and the benchmark times reads, not listings).
 *
 * `failRead` picks objects whose reads fail (HTTP 500) while they still list with their size:
 * the degraded bucket of issue 18, where 23 of 224 films listed but did not read.
 */
export async function startObjectStoreProxy(
  target: string,
  options: { delayMs?: number; failRead?: (path: string) => boolean } = {},
): Promise<ObjectStoreProxy> {
  const upstream = new URL(target);
  const state = { requests: 0, bytesRead: 0 };
  const server: Server = createServer((req, res) => {
    state.requests += 1;
    const path = (req.url ?? '/').split('?')[0]!;
    const read = req.method === 'GET' && !path.endsWith('/');
    if (read && options.failRead?.(decodeURIComponent(path))) {
      res.writeHead(500).end('read failed');
      return;
    }
    void sleep(read ? (options.delayMs ?? 0) : 0).then(() => {
      const forward = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (read) answer.on('data', (chunk: Buffer) => (state.bytesRead += chunk.length));
        answer.pipe(res);
      });
      forward.on('error', () => res.destroy());
      req.pipe(forward);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return state.requests;
    },
    get bytesRead() {
      return state.bytesRead;
    },
    [Symbol.asyncDispose]: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
