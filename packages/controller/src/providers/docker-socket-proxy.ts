import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { connect, createServer as createSocketServer, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { checkCreateBody, checkDockerRequest, stripApiVersion, type DockerJobPolicy, type DockerVerdict } from './docker-request-filter.js';

/**
 * The engine's answer headers without its connection's own (`Connection: keep-alive` would keep an
 * HTTP/1.0 client, systeminformation, waiting for the end of an answer that has ended).
 */
function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const rest = { ...headers };
  for (const name of ['connection', 'keep-alive', 'transfer-encoding']) delete rest[name];
  return rest;
}

/** Headers of a connection, not of an answer: the proxy sets its own. */
const HOP_HEADERS = ['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade'];

/** Whether a request says it has a body (a length over 0, or a chunked one). */
function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
}

/** `POST /containers/<id>/attach`: the one call that upgrades (the filter has checked the container). */
function isAttach(rawUrl: string): boolean {
  const path = stripApiVersion(rawUrl.split('?')[0]!.replace(/^http:(\/\/[^/]*)?/i, ''));
  return /^\/containers\/[^/]+\/attach$/.test(path);
}

function statusLine(answer: IncomingMessage): string {
  return `HTTP/1.1 ${answer.statusCode ?? 502} ${answer.statusMessage ?? ''}\r\n`;
}

function rawHeaderLines(raw: string[]): string {
  let lines = '';
  for (let i = 0; i < raw.length; i += 2) lines += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return lines;
}

/** A create's body is a few KB; nothing the agent sends is larger. */
export const DOCKER_PROXY_MAX_BODY = 1024 * 1024;

export interface DockerSocketProxy {
  socketPath: string;
  close(): Promise<void>;
}

/**
 * A Docker API socket for one job's agent container, in place of the engine's own: it forwards
 * to the engine at `enginePath` only what `checkDockerRequest`/`checkCreateBody` allow (the job's
 * Plex container and one-shot Plex SQLite runs), and answers anything else 403 with Docker's
 * `{"message": …}` naming what was refused. Responses (logs, waits, a hijacked attach) stream.
 * The socket is 0600 in a 0700 folder of the controller's.
 */
export async function startDockerSocketProxy(options: { socketPath: string; enginePath: string; policy: DockerJobPolicy }): Promise<DockerSocketProxy> {
  const { socketPath, enginePath, policy } = options;
  const knownIds = new Set<string>();
  const sockets = new Set<Socket>();

  const deny = (res: ServerResponse, status: number, message: string) => {
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(`${JSON.stringify({ message })}\n`);
  };

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer | undefined, creates: boolean) => {
    const headers: OutgoingHttpHeaders = { ...req.headers };
    delete headers['transfer-encoding'];
    delete headers['content-length'];
    // Only a create has a body: without one, no form-encoded body can override a checked query (Go's r.Form).
    if (!body) delete headers['content-type'];
    if (body) headers['content-length'] = body.length;
    const upstream = request({ socketPath: enginePath, method: req.method, path: req.url, headers }, (answer) => {
      if (creates && answer.statusCode === 201) {
        // The id the engine gave: the docker CLI drives its container by it.
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const text = Buffer.concat(chunks);
          try {
            const id = (JSON.parse(text.toString()) as { Id?: unknown }).Id;
            if (typeof id === 'string') knownIds.add(id);
          } catch {
            // not JSON: nothing to remember
          }
          res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers)).end(text);
        });
        return;
      }
      res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
      // At once: `docker run` starts its container only once the engine's wait has answered its headers.
      res.flushHeaders();
      answer.pipe(res);
    });
    upstream.on('error', (error) => (res.headersSent ? res.destroy() : deny(res, 502, `plexlift's Docker proxy cannot reach the engine: ${error.message}`)));
    res.on('close', () => upstream.destroy());
    upstream.end(body);
  };

  const readBody = (req: IncomingMessage): Promise<Buffer | undefined> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > DOCKER_PROXY_MAX_BODY) {
          req.removeAllListeners('data');
          reject(new Error(`a request body over ${DOCKER_PROXY_MAX_BODY} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => resolve(size > 0 ? Buffer.concat(chunks) : undefined));
      req.on('error', reject);
    });

  const verdictOf = (req: IncomingMessage): DockerVerdict => checkDockerRequest(policy, req.method ?? '', req.url ?? '/', knownIds);

  const server: Server = createServer((req, res) => {
    const verdict = verdictOf(req);
    if (!verdict.allowed) {
      // The body is not read: the answer closes the connection.
      res.setHeader('Connection', 'close');
      deny(res, 403, verdict.message);
      return;
    }
    if (!verdict.creates && hasBody(req)) {
      res.setHeader('Connection', 'close');
      deny(res, 403, `plexlift's Docker proxy refused: a request body on ${req.method ?? ''} ${req.url ?? ''} (only a container create has one)`);
      return;
    }
    readBody(req).then(
      (body) => {
        if (!verdict.creates) {
          forward(req, res, undefined, false);
          return;
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(body?.toString() ?? '');
        } catch {
          deny(res, 400, "plexlift's Docker proxy refused: a container create whose body is not JSON");
          return;
        }
        const created = checkCreateBody(policy, parsed, verdict.creates);
        if (!created.allowed) {
          deny(res, 403, created.message);
          return;
        }
        // What was checked, not the bytes sent: Go would merge a duplicate key's objects that JSON.parse drops.
        forward(req, res, Buffer.from(JSON.stringify(parsed)), true);
      },
      (error: Error) => {
        res.setHeader('Connection', 'close');
        deny(res, 413, `plexlift's Docker proxy refused: ${error.message}`);
      },
    );
  });

  // `docker run -i` attaches with a hijacked connection (`Upgrade: tcp`). Only an attach of the job's own
  // container may upgrade, its head alone goes to the engine, and the client's bytes follow only once the
  // engine has switched (101): until then they would be read by the engine as further, unchecked requests.
  server.on('upgrade', (req: IncomingMessage, client: Socket, head: Buffer) => {
    client.pause();
    const refuseUpgrade = (message: string) => {
      const text = JSON.stringify({ message });
      client.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
      client.destroySoon();
    };
    const verdict = verdictOf(req);
    if (!verdict.allowed) return refuseUpgrade(verdict.message);
    if (req.method !== 'POST' || !isAttach(req.url ?? ''))
      return refuseUpgrade(`plexlift's Docker proxy refused: an upgraded ${req.method ?? ''} ${req.url ?? ''} (only an attach)`);
    if (hasBody(req)) return refuseUpgrade("plexlift's Docker proxy refused: an attach with a request body");
    const headers: OutgoingHttpHeaders = { ...req.headers };
    for (const name of ['content-length', 'transfer-encoding', 'content-type']) delete headers[name];
    const upstream = request({
      method: 'POST',
      path: req.url,
      headers,
      // Its own connection (no agent's pool: none a later call could reuse), half-open: `docker run -i` ends its input and reads on.
      createConnection: () => connect({ path: enginePath, allowHalfOpen: true }),
    });
    let engineSocket: Socket | undefined;
    upstream.once('socket', (socket: Socket) => (engineSocket = socket));
    upstream.on('upgrade', (answer: IncomingMessage, engine: Socket, engineHead: Buffer) => {
      client.write(`${statusLine(answer)}${rawHeaderLines(answer.rawHeaders)}\r\n`);
      if (engineHead.length > 0) client.write(engineHead);
      if (head.length > 0) engine.write(head);
      engine.pipe(client).on('error', () => engine.destroy());
      client.pipe(engine).on('error', () => client.destroy());
      engine.on('error', () => client.destroy());
      engine.on('close', () => client.destroy());
      client.on('close', () => engine.destroy());
      client.resume();
    });
    // Not switched: the answer is passed on, and both connections end (nothing more is read from the client).
    upstream.on('response', (answer: IncomingMessage) => {
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => {
        const text = Buffer.concat(chunks);
        const kept = answer.rawHeaders.filter((_, i, all) => !HOP_HEADERS.includes(all[i - (i % 2)]!.toLowerCase()));
        client.end(
          Buffer.concat([Buffer.from(`${statusLine(answer)}${rawHeaderLines(kept)}Content-Length: ${text.length}\r\nConnection: close\r\n\r\n`), text]),
        );
        client.destroySoon();
        // Half-open, it would otherwise wait for the engine, which keeps a connection alive.
        engineSocket?.destroy();
      });
    });
    upstream.on('error', (error) => {
      if (!client.destroyed) refuseUpgrade(`plexlift's Docker proxy cannot reach the engine: ${error.message}`);
    });
    // A client gone before the engine answered: its attach goes too.
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    upstream.end();
  });

  // systeminformation (the agent's CPU monitor) writes `GET http:/containers/… HTTP/1.0`, which
  // the engine accepts and Node's parser does not: its request line is put in origin form first.
  // Half-open like Node's HTTP server: `docker run -i` closes its side of an attach when its input ends, and reads on.
  const listener = createSocketServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.once('data', (first: Buffer) => {
      socket.pause();
      const absolute = /^([A-Z]+) http:(?:\/\/[^/\s]*)?(?=\/)/.exec(first.toString('latin1', 0, Math.min(first.length, 256)));
      socket.unshift(absolute ? Buffer.concat([Buffer.from(`${absolute[1]} `), first.subarray(absolute[0].length)]) : first);
      server.emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
  });

  mkdirSync(dirname(socketPath), { recursive: true, mode: 0o700 });
  chmodSync(dirname(socketPath), 0o700);
  // A socket left by a controller that stopped: this one replaces it.
  rmSync(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(socketPath, () => {
      listener.off('error', reject);
      resolve();
    });
  });
  chmodSync(socketPath, 0o600);

  return {
    socketPath,
    close: async () => {
      // A following `logs` or `wait` never ends on its own.
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
      rmSync(socketPath, { force: true });
    },
  };
}
