import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { cutIntoChunks } from '@plexlift/shared/archive';
import { CHUNK_SHA256_HEADER, MAX_TRANSFER_CHUNK_BYTES, type TransferCompletion, type TransferListing, type TransferRoute } from '@plexlift/shared/transfer';
import { formatBytes, freeBytes } from '@plexlift/shared/plex-db';
import { bearerToken } from '@plexlift/shared/protocol';
import type { TokenStore } from '../store/token-store.js';
import type { TransferRecord, TransferStore } from './transfer-store.js';

export interface ChunkTransfersOptions {
  store: TransferStore;
  tokens: TokenStore;
  /** Where transfers are staged, one folder each. */
  stagingDir: string;
  /** The largest chunk accepted. @default MAX_TRANSFER_CHUNK_BYTES */
  maxChunkBytes?: number;
  /** Space left free on the staging disk after a chunk. @default 1 GiB */
  reserveBytes?: number;
  /** Called once an export's whole digest is verified (teardown may start). */
  onVerified?: (transfer: TransferRecord) => void;
}

/**
 * The home side of the data plane (DESIGN.md): `PUT /transfers/{id}/chunks/{n}` staged on disk
 * with its sha256 checked before it counts, `GET /transfers/{id}` lists what is held (so an agent
 * resumes after any cut), `POST …/complete` checks the whole digest over the chunks in order.
 * Memory holds one request's stream buffers whatever the archive size; a chunk is refused (507)
 * when the disk could not take it. The same routes serve a restore snapshot the other way.
 */
export class ChunkTransfers {
  /** Body bytes read from agents, partial chunks included (what crossed the wire). */
  bytesReceived = 0;

  constructor(private readonly options: ChunkTransfersOptions) {
    mkdirSync(options.stagingDir, { recursive: true, mode: 0o700 });
  }

  /** Opens a transfer for a job (idempotent). */
  open(id: string, jobId: string, direction: TransferRecord['direction']): TransferRecord {
    const path = join(this.options.stagingDir, id);
    mkdirSync(path, { recursive: true, mode: 0o700 });
    return this.options.store.create({ id, jobId, direction, path });
  }

  /** Stages a stream as a complete transfer, cut into checksummed chunks (the restore snapshot). */
  async publish(id: string, jobId: string, source: Readable, chunkBytes: number): Promise<TransferRecord> {
    const transfer = this.open(id, jobId, 'restore');
    const whole: { sha256?: string; bytes?: number } = {};
    let count = 0;
    for await (const chunk of cutIntoChunks(source, chunkBytes, whole)) {
      const file = await writeDurably(transfer.path, chunk.index, Readable.from([chunk.data]));
      renameSync(file, chunkPath(transfer, chunk.index));
      this.options.store.putChunk(id, { index: chunk.index, sha256: chunk.sha256, bytes: chunk.data.length });
      count += 1;
    }
    this.options.store.markVerified(id, { chunks: count, bytes: whole.bytes ?? 0, sha256: whole.sha256 ?? '' });
    return this.options.store.get(id)!;
  }

  /** The verified archive, streamed from its chunks in order. */
  read(id: string): Readable {
    const transfer = this.options.store.get(id);
    if (transfer?.state !== 'verified') throw new Error(`transfer ${id} is not verified`);
    const paths = this.options.store.chunks(id).map((chunk) => chunkPath(transfer, chunk.index));
    return Readable.from(
      (async function* () {
        for (const path of paths) yield* createReadStream(path);
      })(),
    );
  }

  /** Deletes a transfer's staged files. */
  discard(id: string): void {
    const transfer = this.options.store.get(id);
    if (transfer) rmSync(transfer.path, { recursive: true, force: true });
  }

  /** Serves one data-plane call (the server matched its path with `matchTransferRoute`). */
  handle(req: IncomingMessage, res: ServerResponse, route: TransferRoute): void {
    void this.route(req, res, route).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { error: (error as Error).message });
      else res.destroy();
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse, route: TransferRoute): Promise<void> {
    const transfer = this.options.store.get(route.transferId);
    const token = bearerToken(req.headers);
    const check = token ? this.options.tokens.check(token, ['transfer']) : undefined;
    // The same answer for an unknown transfer and a wrong token: nothing to learn by probing.
    if (!check?.ok || !transfer || transfer.jobId !== check.jobId) return send(res, 401, { error: 'unauthorized' });
    if (req.method === 'GET' && route.call === 'listing') {
      const listing: TransferListing = {
        chunks: this.options.store.chunks(transfer.id).map(({ index, sha256 }) => ({ index, sha256 })),
        ...(transfer.state === 'verified' ? { complete: true, sha256: transfer.sha256 } : {}),
      };
      return send(res, 200, listing);
    }
    if (req.method === 'GET' && route.call === 'chunk') return this.sendChunk(res, transfer, route.index);
    if (req.method === 'PUT' && route.call === 'chunk') return this.receiveChunk(req, res, transfer, route.index);
    if (req.method === 'POST' && route.call === 'complete') return this.complete(req, res, transfer);
    send(res, 405, { error: `${req.method ?? '?'} is not allowed here` });
  }

  private sendChunk(res: ServerResponse, transfer: TransferRecord, index: number): void {
    const chunk = this.options.store.chunks(transfer.id).find((c) => c.index === index);
    if (!chunk) return send(res, 404, { error: `no chunk ${index}` });
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': chunk.bytes, [CHUNK_SHA256_HEADER]: chunk.sha256 });
    createReadStream(chunkPath(transfer, index)).pipe(res);
  }

  private async receiveChunk(req: IncomingMessage, res: ServerResponse, transfer: TransferRecord, index: number): Promise<void> {
    if (transfer.direction !== 'export' || transfer.state === 'verified') return send(res, 409, { error: `transfer ${transfer.id} takes no more chunks` });
    const expected = String(req.headers[CHUNK_SHA256_HEADER.toLowerCase()] ?? '');
    const length = Number(req.headers['content-length']);
    const max = this.options.maxChunkBytes ?? MAX_TRANSFER_CHUNK_BYTES;
    if (!/^[0-9a-f]{64}$/.test(expected)) return send(res, 400, { error: `${CHUNK_SHA256_HEADER} must be the chunk's sha256 (64 hex digits)` });
    if (!Number.isInteger(length) || length < 0) return send(res, 411, { error: 'Content-Length is required' });
    if (length > max) return send(res, 413, { error: `a chunk may hold at most ${max} bytes` });
    const free = freeBytes(transfer.path);
    const reserve = this.options.reserveBytes ?? 1024 ** 3;
    if (free < length + reserve) {
      return send(res, 507, {
        error: `home has ${formatBytes(free)} free for transfers, and keeps ${formatBytes(reserve)} free; free some space and the upload resumes`,
      });
    }
    const hash = createHash('sha256');
    let received = 0;
    req.on('data', (data: Buffer) => {
      hash.update(data);
      received += data.length;
      this.bytesReceived += data.length;
    });
    const partial = await writeDurably(transfer.path, index, req);
    const actual = hash.digest('hex');
    if (actual !== expected || received !== length) {
      rmSync(partial, { force: true });
      return send(res, 422, { error: `chunk ${index} arrived damaged (sha256 ${actual}, ${received} of ${length} bytes); send it again` });
    }
    renameSync(partial, chunkPath(transfer, index));
    this.options.store.putChunk(transfer.id, { index, sha256: actual, bytes: received });
    send(res, 201, { index, sha256: actual });
  }

  private async complete(req: IncomingMessage, res: ServerResponse, transfer: TransferRecord): Promise<void> {
    const body = await readJson(req);
    const claimed: TransferCompletion = { chunks: Number(body.chunks), bytes: Number(body.bytes), sha256: typeof body.sha256 === 'string' ? body.sha256 : '' };
    if (transfer.state === 'verified') {
      return transfer.sha256 === claimed.sha256
        ? send(res, 200, { verified: true })
        : send(res, 409, { error: 'this transfer was verified with another digest' });
    }
    if (!(claimed.bytes > 0)) return send(res, 409, { error: 'an empty archive is not an archive; nothing is verified' });
    const chunks = this.options.store.chunks(transfer.id).filter((c) => c.index < claimed.chunks);
    if (chunks.length !== claimed.chunks || chunks.some((c, i) => c.index !== i)) {
      return send(res, 409, { error: `home holds ${chunks.length} of ${claimed.chunks} chunks; send the missing ones` });
    }
    const whole = createHash('sha256');
    let bytes = 0;
    for (const chunk of chunks) {
      for await (const data of createReadStream(chunkPath(transfer, chunk.index))) {
        whole.update(data as Buffer);
        bytes += (data as Buffer).length;
      }
    }
    const digest = whole.digest('hex');
    if (digest !== claimed.sha256 || bytes !== claimed.bytes) {
      return send(res, 409, {
        error: `the archive home holds does not match: sha256 ${digest} (${bytes} bytes), the agent sent ${claimed.sha256} (${claimed.bytes} bytes)`,
      });
    }
    this.options.store.dropChunksFrom(transfer.id, claimed.chunks);
    this.options.store.markVerified(transfer.id, { chunks: claimed.chunks, bytes, sha256: digest });
    send(res, 200, { verified: true });
    this.options.onVerified?.(this.options.store.get(transfer.id)!);
  }
}

function chunkPath(transfer: TransferRecord, index: number): string {
  return join(transfer.path, `${index}.chunk`);
}

/** Writes a stream to a new partial file and flushes it to disk before anyone relies on it. */
async function writeDurably(folder: string, index: number, source: Readable): Promise<string> {
  const partial = join(folder, `${index}.${randomBytes(4).toString('hex')}.partial`);
  try {
    await pipeline(source, createWriteStream(partial, { mode: 0o600 }));
    const handle = await open(partial, 'r');
    await handle.sync();
    await handle.close();
  } catch (error) {
    if (existsSync(partial)) rmSync(partial, { force: true });
    throw error;
  }
  return partial;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const data of req) {
    size += (data as Buffer).length;
    if (size > 64 * 1024) throw new Error('request body too large');
    parts.push(data as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}
