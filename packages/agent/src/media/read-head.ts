import { open } from 'node:fs/promises';

/**
 * Reads the first `bytes` of a file, as a scanner or an analyser would. rclone answers a file
 * gone from the bucket but still in its listing cache with an empty read: that counts as EIO.
 */
export async function readHead(file: string, bytes: number): Promise<void> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const { bytesRead } = await handle.read(Buffer.alloc(bytes), 0, bytes, 0);
    if (size > 0 && bytesRead === 0) throw Object.assign(new Error(`empty read of ${file}`), { code: 'EIO' });
  } finally {
    await handle.close();
  }
}

/**
 * Gives up on `work` after `ms` with an ETIMEDOUT error. A read hung in a FUSE mount cannot be
 * cancelled; this only stops waiting for it.
 */
export function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer in ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** The errno code of a failed read, or its message. */
export function describeReadError(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}
