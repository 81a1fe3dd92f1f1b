import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { cutIntoChunks } from '@plexlift/shared/archive';
import {
  CHUNK_SHA256_HEADER,
  MAX_TRANSFER_ARCHIVE_BYTES,
  MAX_TRANSFER_CHUNK_BYTES,
  maxTransferChunks,
  MIN_TRANSFER_BYTES_PER_SECOND,
  MIN_TRANSFER_CHUNK_BYTES,
  TRANSFER_STALL_MS,
  type TransferCompletion,
  type TransferListing,
  type TransferNoRoom,
  type TransferRoute,
} from '@plexlift/shared/transfer';
import type { JobState } from '@plexlift/shared';
import { formatBytes, freeBytes } from '@plexlift/shared/plex-db';
import { bearerToken } from '@plexlift/shared/protocol';
import type { TokenStore } from '../store/token-store.js';
import type { TransferRecord, TransferStore } from './transfer-store.js';
import { transferNeeded } from './transfer-retention.js';

export interface ChunkTransfersOptions {
  store: TransferStore;
  tokens: TokenStore;
  /** Where transfers are staged, one folder each. */
  stagingDir: string;
  /** The largest chunk accepted. @default MAX_TRANSFER_CHUNK_BYTES */
  maxChunkBytes?: number;
  /** Space left free on the staging disk after every chunk in flight. @default 1 GiB */
  reserveBytes?: number;
  /** Free bytes on the disk of a folder (tests give a disk of a set size). @default statfs */
  freeBytes?: (dir: string) => number;
  /** The largest archive a transfer holds: bounds its chunk indexes. @default MAX_TRANSFER_ARCHIVE_BYTES */
  maxArchiveBytes?: number;
  /** Chunk uploads at once, per transfer and in all; more are told to wait (429). @default 4 and 16 */
  maxUploads?: { perTransfer: number; total: number };
  /** Slowest a chunk may arrive, and the longest silence within it, before it is cut. @default 64 KiB/s and 60 s */
  slowLink?: { minBytesPerSecond: number; stallMs: number };
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
  /** Disk promised to chunk uploads in flight (their Content-Length), not yet on disk for `statfs` to see. */
  private reservedBytes = 0;
  private readonly uploads = new Map<string, number>();
  /** Transfers whose whole digest is being checked: no chunk may replace one of theirs meanwhile. */
  private readonly verifying = new Set<string>();
  /** Restore snapshots being written: their partial files are not leftovers. */
  private readonly publishing = new Set<string>();

  constructor(private readonly options: ChunkTransfersOptions) {
    mkdirSync(options.stagingDir, { recursive: true, mode: 0o700 });
  }

  private get maxChunkBytes(): number {
    return this.options.maxChunkBytes ?? MAX_TRANSFER_CHUNK_BYTES;
  }

  private get slowLink(): { minBytesPerSecond: number; stallMs: number } {
    return this.options.slowLink ?? { minBytesPerSecond: MIN_TRANSFER_BYTES_PER_SECOND, stallMs: TRANSFER_STALL_MS };
  }

  /** The most chunks a transfer holds: its largest archive in the smallest chunks an agent cuts. */
  get maxChunks(): number {
    return maxTransferChunks(this.options.maxArchiveBytes ?? MAX_TRANSFER_ARCHIVE_BYTES, Math.min(MIN_TRANSFER_CHUNK_BYTES, this.maxChunkBytes));
  }

  /**
   * How long a chunk request may take in all: the largest chunk at the slowest rate, plus one
   * stall (the server's `requestTimeout`; Node's 300 s would cut a 64 MiB chunk below 1.8 Mbit/s).
   */
  get requestTimeoutMs(): number {
    return this.chunkDeadlineMs(this.maxChunkBytes);
  }

  private chunkDeadlineMs(bytes: number): number {
    const { minBytesPerSecond, stallMs } = this.slowLink;
    return Math.ceil((bytes / minBytesPerSecond) * 1000) + stallMs;
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
    this.publishing.add(id);
    try {
      for await (const chunk of cutIntoChunks(source, chunkBytes, whole)) {
        const file = await writeDurably(transfer.path, chunk.index, Readable.from([chunk.data]));
        renameSync(file, chunkPath(transfer, chunk.index));
        this.options.store.putChunk(id, { index: chunk.index, sha256: chunk.sha256, bytes: chunk.data.length });
        count += 1;
      }
    } finally {
      this.publishing.delete(id);
    }
    this.options.store.markVerified(id, { chunks: count, bytes: whole.bytes ?? 0, sha256: whole.sha256 ?? '' });
    return this.options.store.get(id)!;
  }

  /**
   * The verified archive, streamed from its chunks in order, each hashed again as it is read: a
   * chunk changed on disk since the verification fails the stream (before its end) naming it.
   */
  read(id: string): Readable {
    const transfer = this.options.store.get(id);
    if (transfer?.state !== 'verified') throw new Error(`transfer ${id} is not verified (it is ${transfer?.state ?? 'unknown'})`);
    const chunks = this.options.store.chunks(id);
    if (chunks.length !== transfer.chunks || chunks.some((chunk, i) => chunk.index !== i)) {
      throw new Error(`transfer ${id} was verified with ${transfer.chunks} chunks and home holds ${chunks.length}: it cannot be used`);
    }
    return Readable.from(
      (async function* () {
        const whole = createHash('sha256');
        for (const chunk of chunks) {
          const hash = createHash('sha256');
          let bytes = 0;
          for await (const data of createReadStream(chunkPath(transfer, chunk.index))) {
            hash.update(data as Buffer);
            whole.update(data as Buffer);
            bytes += (data as Buffer).length;
            // The last piece of a chunk is held back until the chunk is known to be intact.
            if (bytes < chunk.bytes) yield data as Buffer;
            else {
              const digest = hash.copy().digest('hex');
              if (bytes !== chunk.bytes || digest !== chunk.sha256) throw changedOnDisk(id, chunk.index, digest, bytes, chunk);
              yield data as Buffer;
            }
          }
          if (bytes < chunk.bytes) throw changedOnDisk(id, chunk.index, hash.digest('hex'), bytes, chunk);
        }
        const digest = whole.digest('hex');
        if (digest !== transfer.sha256)
          throw new Error(`the archive of transfer ${id} changed on disk since it was verified (sha256 ${digest}, verified ${transfer.sha256})`);
      })(),
    );
  }

  /** Deletes a transfer's staged files and its chunk list; its record (sizes, digest) stays for the job's report. */
  discard(id: string): void {
    const transfer = this.options.store.get(id);
    if (!transfer) return;
    rmSync(transfer.path, { recursive: true, force: true });
    this.options.store.markDiscarded(id);
  }

  /** Discards what a job no longer needs (see `transferNeeded`): called as it leaves a state. */
  release(jobId: string, state: JobState): string[] {
    const discarded: string[] = [];
    const transfers = this.options.store.forJob(jobId);
    const exportVerified = transfers.some((t) => t.direction === 'export' && t.state === 'verified');
    for (const transfer of transfers) {
      if (transfer.state === 'discarded' || transferNeeded(transfer, state, exportVerified)) continue;
      this.discard(transfer.id);
      discarded.push(transfer.id);
    }
    return discarded;
  }

  /**
   * The daemon's start-up sweep (and the daily pruning's): deletes the staging folders no
   * transfer owns (its job was pruned), those of transfers their job no longer needs, and the
   * partial chunks an interrupted upload left (not those being written). Returns what it removed.
   */
  sweep(jobState: (jobId: string) => JobState | undefined): string[] {
    const removed: string[] = [];
    for (const entry of readdirSync(this.options.stagingDir, { withFileTypes: true })) {
      const path = join(this.options.stagingDir, entry.name);
      const transfer = this.options.store.get(entry.name);
      const state = transfer && jobState(transfer.jobId);
      if (!transfer || !state || !entry.isDirectory() || transfer.state === 'discarded') {
        rmSync(path, { recursive: true, force: true });
        if (transfer && transfer.state !== 'discarded') this.options.store.markDiscarded(transfer.id);
        removed.push(entry.name);
      } else if (
        !transferNeeded(
          transfer,
          state,
          this.options.store.forJob(transfer.jobId).some((t) => t.direction === 'export' && t.state === 'verified'),
        )
      ) {
        this.discard(transfer.id);
        removed.push(entry.name);
      } else if (!this.uploads.has(transfer.id) && !this.publishing.has(transfer.id)) {
        for (const file of readdirSync(path)) if (file.endsWith('.partial')) rmSync(join(path, file), { force: true });
      }
    }
    return removed;
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
    if (route.call === 'chunk' && !(Number.isSafeInteger(route.index) && route.index >= 0 && route.index < this.maxChunks)) {
      return send(res, 400, { error: `the chunk index in the path must be a whole number from 0 to ${this.maxChunks - 1}` });
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
    if (!this.takesChunks(transfer)) return send(res, 409, { error: `transfer ${transfer.id} takes no more chunks` });
    const expected = String(req.headers[CHUNK_SHA256_HEADER.toLowerCase()] ?? '');
    const length = Number(req.headers['content-length']);
    const max = this.maxChunkBytes;
    if (!/^[0-9a-f]{64}$/.test(expected)) return send(res, 400, { error: `${CHUNK_SHA256_HEADER} must be the chunk's sha256 (64 hex digits)` });
    if (!Number.isInteger(length) || length < 0) return send(res, 411, { error: 'Content-Length is required' });
    if (length > max) return send(res, 413, { error: `a chunk may hold at most ${max} bytes` });
    const limits = this.options.maxUploads ?? { perTransfer: 4, total: 16 };
    const mine = this.uploads.get(transfer.id) ?? 0;
    const total = [...this.uploads.values()].reduce((sum, n) => sum + n, 0);
    if (mine >= limits.perTransfer || total >= limits.total) {
      res.setHeader('Retry-After', '1');
      return send(res, 429, {
        error: `home takes ${limits.perTransfer} chunk uploads per transfer and ${limits.total} in all at once; ${mine} and ${total} are under way: send it again shortly`,
      });
    }
    // Checked and reserved in one step (no await between): uploads in flight cannot overdraw the disk.
    const free = (this.options.freeBytes ?? freeBytes)(transfer.path) - this.reservedBytes;
    const reserve = this.options.reserveBytes ?? 1024 ** 3;
    if (free < length + reserve) {
      const room: TransferNoRoom = {
        error: `home has ${formatBytes(Math.max(free, 0))} free for transfers, and keeps ${formatBytes(reserve)} free; free some space and the upload resumes`,
        free: Math.max(free, 0),
        needed: length + reserve,
      };
      return send(res, 507, room);
    }
    this.reservedBytes += length;
    this.uploads.set(transfer.id, mine + 1);
    try {
      await this.stageChunk(req, res, transfer, index, expected, length);
    } finally {
      this.reservedBytes -= length;
      const left = (this.uploads.get(transfer.id) ?? 1) - 1;
      if (left > 0) this.uploads.set(transfer.id, left);
      else this.uploads.delete(transfer.id);
    }
  }

  /**
   * Reads a chunk's body to a partial file, cut when it stalls or falls below the slowest rate
   * (not after a fixed total), then renames it into place if the transfer still takes chunks.
   */
  private async stageChunk(
    req: IncomingMessage,
    res: ServerResponse,
    transfer: TransferRecord,
    index: number,
    expected: string,
    length: number,
  ): Promise<void> {
    const { stallMs } = this.slowLink;
    const cut = (reason: string) => req.destroy(new Error(`chunk ${index} of ${transfer.id}: ${reason}`));
    const stall = setTimeout(() => cut(`no byte for ${stallMs} ms`), stallMs);
    const deadlineMs = this.chunkDeadlineMs(length);
    const deadline = setTimeout(() => cut(`not received within ${deadlineMs} ms`), deadlineMs);
    const hash = createHash('sha256');
    let received = 0;
    req.on('data', (data: Buffer) => {
      hash.update(data);
      received += data.length;
      this.bytesReceived += data.length;
      stall.refresh();
    });
    let partial: string;
    try {
      partial = await writeDurably(transfer.path, index, req);
    } finally {
      clearTimeout(stall);
      clearTimeout(deadline);
    }
    const actual = hash.digest('hex');
    if (actual !== expected || received !== length) {
      rmSync(partial, { force: true });
      return send(res, 422, { error: `chunk ${index} arrived damaged (sha256 ${actual}, ${received} of ${length} bytes); send it again` });
    }
    // Checked again at the rename, with no await between it and the row: a transfer verified
    // (or being verified) while this chunk arrived keeps the chunk it was verified with.
    if (!this.takesChunks(this.options.store.get(transfer.id))) {
      rmSync(partial, { force: true });
      return send(res, 409, { error: `transfer ${transfer.id} was verified while chunk ${index} arrived; it takes no more chunks` });
    }
    renameSync(partial, chunkPath(transfer, index));
    this.options.store.putChunk(transfer.id, { index, sha256: actual, bytes: received });
    send(res, 201, { index, sha256: actual });
  }

  private takesChunks(transfer: TransferRecord | undefined): boolean {
    return transfer?.direction === 'export' && transfer.state === 'open' && !this.verifying.has(transfer.id);
  }

  private async complete(req: IncomingMessage, res: ServerResponse, transfer: TransferRecord): Promise<void> {
    const body = await readJson(req);
    const claimed: TransferCompletion = { chunks: Number(body.chunks), bytes: Number(body.bytes), sha256: typeof body.sha256 === 'string' ? body.sha256 : '' };
    const now = this.options.store.get(transfer.id)!;
    if (now.state === 'verified') {
      return now.sha256 === claimed.sha256 ? send(res, 200, { verified: true }) : send(res, 409, { error: 'this transfer was verified with another digest' });
    }
    if (!this.takesChunks(now))
      return send(res, 409, { error: `transfer ${transfer.id} is ${this.verifying.has(transfer.id) ? 'being verified' : now.state}` });
    if (!(claimed.bytes > 0)) return send(res, 409, { error: 'an empty archive is not an archive; nothing is verified' });
    this.verifying.add(transfer.id);
    try {
      await this.verify(res, transfer, claimed);
    } finally {
      this.verifying.delete(transfer.id);
    }
  }

  private async verify(res: ServerResponse, transfer: TransferRecord, claimed: TransferCompletion): Promise<void> {
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
    // Chunks past the end (a longer earlier attempt) go with their files.
    for (const extra of this.options.store.chunks(transfer.id).filter((c) => c.index >= claimed.chunks))
      rmSync(chunkPath(transfer, extra.index), { force: true });
    this.options.store.dropChunksFrom(transfer.id, claimed.chunks);
    this.options.store.markVerified(transfer.id, { chunks: claimed.chunks, bytes, sha256: digest });
    send(res, 200, { verified: true });
    this.options.onVerified?.(this.options.store.get(transfer.id)!);
  }
}

function changedOnDisk(id: string, index: number, digest: string, bytes: number, chunk: { sha256: string; bytes: number }): Error {
  return new Error(
    `chunk ${index} of transfer ${id} changed on disk since it was verified (sha256 ${digest}, ${bytes} bytes; verified ${chunk.sha256}, ${chunk.bytes} bytes): the archive is not used`,
  );
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
