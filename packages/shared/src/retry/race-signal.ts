/**
 * `work`, unless `signal` aborts first (rejects with its reason) or the timeout passes (rejects
 * with `timeout.error()`). The work itself goes on when it cannot be cancelled (an HTTP call in
 * flight): callers use this only where what it does is recorded or found again later. Its
 * listener and timer are gone once it settles.
 */
export function raceSignal<T>(work: Promise<T>, signal: AbortSignal | undefined, timeout?: { ms: number; error: () => Error }): Promise<T> {
  if (!signal && !timeout) return work;
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) {
      work.catch(() => undefined);
      return reject(signal.reason as Error);
    }
    const timer = timeout ? setTimeout(() => reject(timeout.error()), timeout.ms).unref() : undefined;
    const stop = () => reject(signal!.reason as Error);
    signal?.addEventListener('abort', stop, { once: true });
    work.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', stop);
    });
  });
}
