import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';

export interface ArchiveChunk {
  index: number;
  data: Buffer;
  sha256: string;
}

/**
 * Cuts a stream into fixed-size chunks (the last one shorter), each with its sha256, and keeps
 * the digest of the whole. Only the chunk being filled is held in memory, copied straight into
 * its own buffer (no second copy to join pieces); the consumer's pace pauses the producer.
 */
export async function* cutIntoChunks(stream: Readable, chunkBytes: number, whole: { sha256?: string; bytes?: number } = {}): AsyncGenerator<ArchiveChunk> {
  const total = createHash('sha256');
  let buffer = Buffer.allocUnsafe(chunkBytes);
  let hash = createHash('sha256');
  let filled = 0;
  let index = 0;
  let bytes = 0;
  const emit = (): ArchiveChunk => {
    const data = filled === chunkBytes ? buffer : buffer.subarray(0, filled);
    const chunk = { index: index++, data, sha256: hash.digest('hex') };
    buffer = Buffer.allocUnsafe(chunkBytes);
    hash = createHash('sha256');
    filled = 0;
    return chunk;
  };
  for await (const piece of stream as AsyncIterable<Buffer>) {
    total.update(piece);
    bytes += piece.length;
    let offset = 0;
    while (offset < piece.length) {
      const take = Math.min(chunkBytes - filled, piece.length - offset);
      piece.copy(buffer, filled, offset, offset + take);
      hash.update(piece.subarray(offset, offset + take));
      filled += take;
      offset += take;
      if (filled === chunkBytes) yield emit();
    }
  }
  if (filled > 0 || index === 0) yield emit();
  whole.sha256 = total.digest('hex');
  whole.bytes = bytes;
}
