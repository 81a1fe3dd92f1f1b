import { describe, expect, it, vi } from 'vitest';
import { CpuSampler } from './cpu-sampler.js';

/** A CPU source replaying a recorded series (one reading per call), then idle. */
function recorded(series: number[]) {
  let calls = 0;
  return { read: () => Promise.resolve(series[calls++] ?? 0), calls: () => calls };
}

describe('CpuSampler', () => {
  it('reports every reading and gives each read the mean of the readings since the last one', async () => {
    const source = recorded([90, 70, 50, 10, 10]);
    const reported: number[] = [];
    const sampler = new CpuSampler(source, { intervalMs: 20, onSample: (p) => reported.push(p) });
    sampler.start();
    await vi.waitFor(() => expect(reported.length, 'readings reported on its own schedule').toBeGreaterThanOrEqual(3), { timeout: 5_000, interval: 5 });
    sampler.stop();
    const taken = reported.length;
    expect(await sampler.read()).toBe(reported.reduce((a, b) => a + b, 0) / taken);
    // Nothing new since: a fresh reading, reported too.
    expect(await sampler.read()).toBe([90, 70, 50, 10, 10][taken]);
    expect(reported).toEqual([90, 70, 50, 10, 10].slice(0, taken + 1));
    expect(source.calls()).toBe(taken + 1);
  });

  it('a failing source is skipped, not thrown into the job', async () => {
    const sampler = new CpuSampler({ read: () => Promise.reject(new Error('no /proc/stat')) }, { intervalMs: 10 });
    expect(await sampler.read()).toBe(0);
  });
});
