import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SimRuntime } from './runtime.js';
import { toJson, toXml, type XmlElement } from './xml.js';

export interface PlexRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** Path parameters captured by the route. */
  params: string[];
  remote: string;
  /** The request body (only the double's control routes read one). */
  body: string;
}

export type PlexReply =
  { status: number; body: XmlElement; headers?: Record<string, string> } | { status: number; html?: string; headers?: Record<string, string> };

export interface Route {
  method: string | string[];
  path: RegExp;
  /** Answers without a token even on a claimed server (`/identity`). */
  public?: boolean;
  handle(request: PlexRequest): PlexReply | Promise<PlexReply>;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function htmlError(status: number): PlexReply {
  const text = STATUS_TEXT[status] ?? 'Error';
  return { status, html: `<html><head><title>${text}</title></head><body><h1>${status} ${text}</h1></body></html>` };
}

/**
 * PMS's HTTP front: XML unless `Accept: application/json`, token from the `X-Plex-Token`
 * header or query. A claimed server answers 401 without a valid token (but `/identity`); an
 * unclaimed one answers local requests without one, as the real capture shows. Request lines go
 * to the log as PMS writes them.
 */
export function createPlexHttpServer(runtime: SimRuntime, routes: Route[], hooks: { faultStatus(path: string): number | undefined }): Server {
  let counter = 0x238;
  return createServer((req, res) => {
    void handle(req, res);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const id = (counter++).toString(16);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const requestBody = Buffer.concat(chunks).toString('utf8');
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? 0}`;
    const method = req.method ?? 'GET';
    runtime.log.debug(`Request: [${remote} (Loopback)] ${method} ${url.pathname} (2 live) #${id}`, 'http');
    let reply: PlexReply;
    try {
      reply = await route(method, url, req, requestBody);
    } catch (error) {
      runtime.log.error(`[Req#${id}] ${(error as Error).message}`, 'http');
      reply = htmlError(500);
    }
    const json = (req.headers.accept ?? '').includes('application/json');
    let body: string;
    if ('body' in reply) {
      body = json ? toJson(reply.body) : toXml(reply.body);
      res.setHeader('Content-Type', json ? 'application/json' : 'text/xml;charset=utf-8');
    } else {
      body = reply.html ?? '';
      if (body) res.setHeader('Content-Type', 'text/html');
    }
    for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
    res.statusCode = reply.status;
    res.end(body);
    runtime.log.debug(`Completed: [${remote}] ${reply.status} ${method} ${url.pathname} (2 live) #${id} 0ms ${Buffer.byteLength(body)} bytes`, 'http');
  }

  async function route(method: string, url: URL, req: IncomingMessage, requestBody: string): Promise<PlexReply> {
    const fault = hooks.faultStatus(url.pathname);
    if (fault !== undefined) return htmlError(fault);
    for (const candidate of routes) {
      const match = candidate.path.exec(url.pathname);
      if (!match) continue;
      const methods = Array.isArray(candidate.method) ? candidate.method : [candidate.method];
      if (!methods.includes(method)) continue;
      if (!candidate.public && !isAuthorized(url, req)) return htmlError(401);
      return candidate.handle({
        method,
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        params: match.slice(1).map((p) => decodeURIComponent(p ?? '')),
        remote: req.socket.remoteAddress ?? '',
        body: requestBody,
      });
    }
    return htmlError(404);
  }

  function isAuthorized(url: URL, req: IncomingMessage): boolean {
    const token = runtime.preferences.token();
    if (!token) return true; // unclaimed: local requests need no token
    const given = (req.headers['x-plex-token'] as string | undefined) ?? url.searchParams.get('X-Plex-Token') ?? undefined;
    return given !== undefined && given === token;
  }
}

export function serverUrl(server: Server): string {
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}
