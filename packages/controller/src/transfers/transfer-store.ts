import type { StoreDatabase } from '../store/schema.js';

export type TransferDirection = 'export' | 'restore';
/** `open` takes chunks; `verified` is whole and its digest checked; `discarded` has no files left (its sizes stay for the report). */
export type TransferState = 'open' | 'verified' | 'discarded';

export interface TransferRecord {
  id: string;
  jobId: string;
  direction: TransferDirection;
  state: TransferState;
  /** The folder its chunks are staged in. */
  path: string;
  chunks: number | undefined;
  bytes: number | undefined;
  sha256: string | undefined;
}

export interface ChunkRecord {
  index: number;
  sha256: string;
  bytes: number;
}

/** The transfers of the data plane and the chunks each holds (the files are in `path`). */
export class TransferStore {
  constructor(
    private readonly db: StoreDatabase,
    private readonly now: () => number = Date.now,
  ) {}

  create(input: { id: string; jobId: string; direction: TransferDirection; path: string }): TransferRecord {
    this.db
      .prepare(`INSERT INTO transfers (id, job_id, direction, state, path, created_at) VALUES (?, ?, ?, 'open', ?, ?) ON CONFLICT (id) DO NOTHING`)
      .run(input.id, input.jobId, input.direction, input.path, this.now());
    return this.get(input.id)!;
  }

  get(id: string): TransferRecord | undefined {
    const row = this.db.prepare('SELECT id, job_id AS jobId, direction, state, path, chunks, bytes, sha256 FROM transfers WHERE id = ?').get(id) as
      | {
          id: string;
          jobId: string;
          direction: TransferDirection;
          state: TransferState;
          path: string;
          chunks: number | null;
          bytes: number | null;
          sha256: string | null;
        }
      | undefined;
    return row && { ...row, chunks: row.chunks ?? undefined, bytes: row.bytes ?? undefined, sha256: row.sha256 ?? undefined };
  }

  forJob(jobId: string): TransferRecord[] {
    return (this.db.prepare('SELECT id FROM transfers WHERE job_id = ? ORDER BY created_at').all(jobId) as { id: string }[]).map((row) => this.get(row.id)!);
  }

  chunks(id: string): ChunkRecord[] {
    return this.db.prepare('SELECT idx AS "index", sha256, bytes FROM transfer_chunks WHERE transfer_id = ? ORDER BY idx').all(id) as ChunkRecord[];
  }

  /** A chunk stored (again): the last copy wins. */
  putChunk(id: string, chunk: ChunkRecord): void {
    this.db
      .prepare(
        'INSERT INTO transfer_chunks (transfer_id, idx, sha256, bytes) VALUES (?, ?, ?, ?) ON CONFLICT (transfer_id, idx) DO UPDATE SET sha256 = excluded.sha256, bytes = excluded.bytes',
      )
      .run(id, chunk.index, chunk.sha256, chunk.bytes);
  }

  /** Drops chunks past the end (a shorter archive than an earlier attempt). */
  dropChunksFrom(id: string, index: number): void {
    this.db.prepare('DELETE FROM transfer_chunks WHERE transfer_id = ? AND idx >= ?').run(id, index);
  }

  /** Its files are gone: the chunk list goes, the sizes and digest stay (the job's report counts them). */
  markDiscarded(id: string): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM transfer_chunks WHERE transfer_id = ?').run(id);
      this.db.prepare(`UPDATE transfers SET state = 'discarded' WHERE id = ?`).run(id);
    })();
  }

  markVerified(id: string, whole: { chunks: number; bytes: number; sha256: string }): void {
    this.db
      .prepare(`UPDATE transfers SET state = 'verified', chunks = ?, bytes = ?, sha256 = ?, completed_at = ? WHERE id = ?`)
      .run(whole.chunks, whole.bytes, whole.sha256, this.now(), id);
  }
}
