import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { CHUNK_SHA256_HEADER, matchTransferRoute } from '@plexlift/shared/transfer';

/**
 * A minimal home side of the chunk protocol for agent tests, until the controller issue lands:
 * chunks staged on disk with their sha256 checked, `GET` lists what is held, `complete` checks
 * the whole digest and assembles the archive. It can cut connections in the middle of a chunk.
 */
export interface TransferHome extends AsyncDisposable {
  url: string;
  /** Times a chunk was stored (a chunk stored twice shows the resend). */
  stored: Map<number, number>;
  /** Cut the socket of the next `count` chunk uploads halfway through. */
  cutNext(count: number): void;
  /** The assembled archive of a completed transfer. */
  archivePath(id: string): string;
  /** Offers a file for download (a restore snapshot), cut into chunks. */
  publish(id: string, file: string, chunkBytes: number): Promise<void>;
  /** Corrupt the next `count` chunk downloads (flip a byte). */
  corruptNext(count: number): void;
  /** Stops listening (home gone); `start()` listens again on the same port with what it held. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startTransferHome(dir: string, token: string): Promise<TransferHome> {
  mkdirSync(dir, { recursive: true });
  const stored = new Map<number, number>();
  let cuts = 0;
  let corruptions = 0;
  const published = new Map<string, string>();
  const staging = (id: string) => join(dir, id.replace(/[^\w-]/g, '_'));
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const route = matchTransferRoute(url.pathname);
      const send = (status: number, body: unknown = '') => {
        res.statusCode = status;
        res.setHeader('Content-Type', 'application/json');
        res.end(typeof body === 'string' ? body : JSON.stringify(body));
      };
      if (req.headers.authorization !== `Bearer ${token}`) return send(401, { error: 'unauthorized' });
      if (!route) return send(404);
      const id = route.transferId;
      const folder = staging(id);
      mkdirSync(folder, { recursive: true });
      if (req.method === 'GET' && route.call === 'listing') {
        const chunks = readdirSync(folder)
          .filter((f) => f.endsWith('.chunk'))
          .map((f) => ({ index: Number(f.split('.')[0]), sha256: f.split('.')[1]! }));
        return send(200, { chunks, ...(published.has(id) ? { sha256: published.get(id), complete: true } : {}) });
      }
      if (req.method === 'GET' && route.call === 'chunk') {
        const file = readdirSync(folder).find((f) => f.startsWith(`${route.index}.`) && f.endsWith('.chunk'));
        if (!file) return send(404);
        const data = readFileSync(join(folder, file));
        if (corruptions > 0) {
          corruptions -= 1;
          data[0] = data[0]! ^ 0xff;
        }
        res.setHeader('Content-Type', 'application/octet-stream');
        return res.end(data);
      }
      if (req.method === 'PUT' && route.call === 'chunk') {
        const { index } = route;
        const expected = String(req.headers[CHUNK_SHA256_HEADER.toLowerCase()] ?? '');
        if (cuts > 0) {
          cuts -= 1;
          // Read part of the body, then drop the connection: a network cut mid-chunk.
          req.once('data', () => req.socket.destroy());
          return;
        }
        const part = join(folder, `${index}.part`);
        const hash = createHash('sha256');
        req.on('data', (data: Buffer) => hash.update(data));
        await pipeline(req, createWriteStream(part));
        const actual = hash.digest('hex');
        if (actual !== expected) {
          rmSync(part, { force: true });
          return send(422, { error: `sha256 ${actual} does not match ${expected}` });
        }
        for (const old of readdirSync(folder).filter((f) => f.startsWith(`${index}.`) && f.endsWith('.chunk'))) rmSync(join(folder, old));
        renameSync(part, join(folder, `${index}.${actual}.chunk`));
        stored.set(index, (stored.get(index) ?? 0) + 1);
        return send(201, { index, sha256: actual });
      }
      if (req.method === 'POST' && route.call === 'complete') {
        const chunks: Buffer[] = [];
        for await (const data of req) chunks.push(data as Buffer);
        const { chunks: count, sha256 } = JSON.parse(Buffer.concat(chunks).toString()) as { chunks: number; sha256: string };
        const files = readdirSync(folder).filter((f) => f.endsWith('.chunk'));
        const byIndex = new Map(files.map((f) => [Number(f.split('.')[0]), f]));
        if (byIndex.size !== count || [...Array(count).keys()].some((i) => !byIndex.has(i)))
          return send(409, { error: `holding ${byIndex.size} of ${count} chunks` });
        const archive = join(dir, `${id}.tar.zst`);
        const whole = createHash('sha256');
        const out = createWriteStream(archive);
        for (let i = 0; i < count; i++) {
          for await (const data of createReadStream(join(folder, byIndex.get(i)!))) {
            whole.update(data as Buffer);
            out.write(data);
          }
        }
        await new Promise<void>((resolve) => out.end(resolve));
        if (whole.digest('hex') !== sha256) {
          rmSync(archive);
          return send(409, { error: 'whole-archive sha256 does not match' });
        }
        return send(200, { verified: true });
      }
      send(405);
    })().catch((error: unknown) => {
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  let listening = true;
  const close = async () => {
    if (!listening) return;
    listening = false;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    url: `http://127.0.0.1:${port}`,
    stop: close,
    start: async () => {
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      listening = true;
    },
    stored,
    cutNext: (count) => (cuts = count),
    archivePath: (id) => {
      const path = join(dir, `${id}.tar.zst`);
      if (!existsSync(path)) throw new Error(`no archive for ${id}`);
      return path;
    },
    publish: async (id, file, chunkBytes) => {
      const folder = staging(id);
      mkdirSync(folder, { recursive: true });
      const whole = createHash('sha256');
      let index = 0;
      for await (const data of createReadStream(file, { highWaterMark: chunkBytes })) {
        const chunk = data as Buffer;
        whole.update(chunk);
        writeFileSync(join(folder, `${index++}.${createHash('sha256').update(chunk).digest('hex')}.chunk`), chunk);
      }
      published.set(id, whole.digest('hex'));
    },
    corruptNext: (count) => (corruptions = count),
    close,
    [Symbol.asyncDispose]: close,
  };
}
