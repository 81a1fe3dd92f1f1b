import { describe, expect, it } from 'vitest';
import { backoffDelay, retry } from './backoff.js';

describe('backoffDelay', () => {
  it('starts at the base and doubles up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffDelay(n, { baseMs: 200, maxMs: 5_000 }))).toEqual([200, 400, 800, 1_600, 3_200, 5_000]);
  });
});

describe('retry', () => {
  const fast = { baseMs: 1, maxMs: 4 };

  it('tries again while retryIf accepts the failure, then resolves', async () => {
    const seen: number[] = [];
    const result = await retry(
      (failures) => {
        seen.push(failures);
        return failures < 2 ? Promise.reject(new Error('cut')) : Promise.resolve('done');
      },
      { backoff: fast, retryIf: () => true },
    );
    expect(result).toBe('done');
    expect(seen).toEqual([0, 1, 2]);
  });

  it('throws the first failure retryIf refuses, as it was', async () => {
    const refused = new Error('refused');
    let attempts = 0;
    await expect(
      retry(
        () => {
          attempts += 1;
          return Promise.reject(attempts < 3 ? new Error('cut') : refused);
        },
        { backoff: fast, retryIf: (error) => error !== refused },
      ),
    ).rejects.toBe(refused);
    expect(attempts).toBe(3);
  });

  it('an abort cuts the wait with its reason and starts no other attempt', async () => {
    const controller = new AbortController();
    let attempts = 0;
    const running = retry(
      () => {
        attempts += 1;
        setTimeout(() => controller.abort(new Error('stopped')), 10);
        return Promise.reject(new Error('cut'));
      },
      { backoff: { baseMs: 60_000, maxMs: 60_000 }, retryIf: () => true, signal: controller.signal },
    );
    await expect(running).rejects.toThrow('stopped');
    expect(attempts).toBe(1);
  });
});
