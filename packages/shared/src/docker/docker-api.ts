import { request } from 'node:http';
import { PlexliftError } from '../errors.js';

/** The Docker Engine's socket: `DOCKER_SOCKET` (what systeminformation reads too), else the standard one. */
export function dockerSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_SOCKET ?? '/var/run/docker.sock';
}

export interface DockerResponse {
  status: number;
  body: string;
  /** The body as bytes (container logs are framed binary). */
  raw: Buffer;
}

/**
 * The few Docker Engine API calls plexlift makes, as plain HTTP over the unix socket (the API is
 * versioned and stable; a client library would be most of a Docker SDK for six calls).
 */
export class DockerApi {
  constructor(readonly socketPath: string = dockerSocketPath()) {}

  /** One call; the body is JSON when given. Rejects only when the engine cannot be reached. */
  call(method: string, path: string, body?: unknown, timeoutMs = 120_000): Promise<DockerResponse> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          socketPath: this.socketPath,
          method,
          path,
          headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {},
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const raw = Buffer.concat(chunks);
            resolve({ status: res.statusCode ?? 0, body: raw.toString(), raw });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
      req.on('error', (error) => reject(new PlexliftError('PLEX_API_ERROR', `cannot reach Docker at ${this.socketPath}: ${error.message}`, { cause: error })));
      req.end(payload);
    });
  }

  /** What a container printed (stdout and stderr), as lines; empty when it is gone. */
  async logs(container: string): Promise<string[]> {
    const response = await this.call('GET', `/containers/${encodeURIComponent(container)}/logs?stdout=true&stderr=true&timestamps=false`);
    return response.status === 200 ? demultiplex(response.raw) : [];
  }

  /** A call that must succeed (one of `ok` statuses); the error says what was asked and what Docker said. */
  async expect(what: string, method: string, path: string, ok: number[], body?: unknown, timeoutMs?: number): Promise<DockerResponse> {
    const response = await this.call(method, path, body, timeoutMs);
    if (!ok.includes(response.status))
      throw new PlexliftError('PLEX_API_ERROR', `docker could not ${what}: HTTP ${response.status} ${dockerMessage(response.body)}`);
    return response;
  }
}

/** Docker's `{"message": …}`, or the raw text. */
export function dockerMessage(body: string): string {
  try {
    return ((JSON.parse(body) as { message?: string }).message ?? body).trim();
  } catch {
    return body.trim();
  }
}

/**
 * `GET /containers/{id}/logs` without a TTY: frames of an 8-byte header (stream, 0, 0, 0, size
 * as big-endian u32) and the payload; here as lines.
 */
export function demultiplex(buffer: Buffer): string[] {
  let text = '';
  for (let at = 0; at + 8 <= buffer.length;) {
    const size = buffer.readUInt32BE(at + 4);
    text += buffer.subarray(at + 8, at + 8 + size).toString('utf8');
    at += 8 + size;
  }
  return text.split('\n').filter((line) => line.trim() !== '');
}
