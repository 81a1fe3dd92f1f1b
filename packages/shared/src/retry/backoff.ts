import { setTimeout as sleep } from 'node:timers/promises';

/** Waits that start at `baseMs` and double up to `maxMs`. */
export interface Backoff {
  baseMs: number;
  maxMs: number;
}

/** The wait before retry number `retry` (0 for the first): `baseMs × 2^retry`, at most `maxMs`. */
export function backoffDelay(retry: number, backoff: Backoff): number {
  return Math.min(backoff.baseMs * 2 ** retry, backoff.maxMs);
}

export interface RetryOptions {
  backoff: Backoff;
  /** Whether another attempt may cure this failure (`failures` so far, this one included); if not, it is thrown. */
  retryIf: (error: unknown, failures: number) => boolean;
  /** A bound on the next wait (the time left before a deadline). */
  maxDelayMs?: () => number;
  /** Ends the retrying: no wait or attempt after it (a wait it cuts rejects with its reason). */
  signal?: AbortSignal | undefined;
}

/**
 * Runs `attempt` until it resolves, waiting with exponential backoff between failures that
 * `retryIf` accepts; throws the first failure it does not, and any failure after an abort.
 */
export async function retry<T>(attempt: (failures: number) => Promise<T>, options: RetryOptions): Promise<T> {
  for (let failures = 0; ;) {
    options.signal?.throwIfAborted();
    try {
      return await attempt(failures);
    } catch (error) {
      failures += 1;
      if (options.signal?.aborted || !options.retryIf(error, failures)) throw error;
      const delayMs = Math.min(backoffDelay(failures - 1, options.backoff), Math.max(options.maxDelayMs?.() ?? Infinity, 0));
      await sleep(delayMs, undefined, options.signal ? { signal: options.signal } : {}).catch(() => options.signal?.throwIfAborted());
    }
  }
}
