/**
 * `work`, unless `signal` aborts first (rejects with its reason) or `timeoutMs` passes (rejects
 * with `timeoutError()`). Its listener and timer are gone once it settles.
 */
export function raceSignal<T>(work: Promise<T>, signal: AbortSignal, timeoutMs: number, timeoutError: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(timeoutError()), timeoutMs).unref();
    const stop = () => reject(signal.reason as Error);
    signal.addEventListener('abort', stop, { once: true });
    work.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal.removeEventListener('abort', stop);
    });
  });
}
