import { describe, expect, it } from 'vitest';
import { SonicProgressTracker } from './sonic-progress-tracker.js';

const MINUTE = 60_000;

describe('SonicProgressTracker', () => {
  it('gives progress, rate and ETA from the DB count', () => {
    const tracker = new SonicProgressTracker({ window: 10 });
    let status = tracker.add({ at: 0, analyzed: 81_035, total: 456_534, cpuPercent: 95 });
    expect(status).toMatchObject({ percent: 17.8, tracksPerHour: 0, etaMs: undefined, done: false, stalled: false });
    for (let i = 1; i <= 30; i++) status = tracker.add({ at: i * 2 * MINUTE, analyzed: 81_035 + i * 200, total: 456_534, cpuPercent: 90 });
    // 200 tracks per 2 minutes = 6,000 per hour; 369,499 left → about 61.6 hours.
    expect(status.tracksPerHour).toBe(6_000);
    expect(status.etaMs! / 3_600_000).toBeCloseTo(61.58, 1);
  });

  it('calls a stall when nothing moves for N readings with an idle CPU', () => {
    const tracker = new SonicProgressTracker({ stallReadings: 3, busyStallReadings: 100 });
    tracker.add({ at: 0, analyzed: 10, total: 100, cpuPercent: 80 });
    // Busy CPU without progress (a big album): not a stall yet.
    for (let i = 1; i <= 5; i++) expect(tracker.add({ at: i * MINUTE, analyzed: 10, total: 100, cpuPercent: 85 }).stalled).toBe(false);
    // Idle CPU and no progress: stalled on the third reading.
    expect(tracker.add({ at: 6 * MINUTE, analyzed: 10, total: 100, cpuPercent: 2 }).stalled).toBe(false);
    expect(tracker.add({ at: 7 * MINUTE, analyzed: 10, total: 100, cpuPercent: 1 }).stalled).toBe(false);
    expect(tracker.add({ at: 8 * MINUTE, analyzed: 10, total: 100, cpuPercent: 1 }).stalled).toBe(true);
    // Progress clears it.
    expect(tracker.add({ at: 9 * MINUTE, analyzed: 11, total: 100, cpuPercent: 1 }).stalled).toBe(false);
  });

  it('calls a stall after the longer rope when the CPU stays busy without progress', () => {
    const tracker = new SonicProgressTracker({ stallReadings: 3, busyStallReadings: 6 });
    tracker.add({ at: 0, analyzed: 10, total: 100, cpuPercent: 99 });
    const stalled = Array.from({ length: 7 }, (_, i) => tracker.add({ at: (i + 1) * MINUTE, analyzed: 10, total: 100, cpuPercent: 99 }).stalled);
    expect(stalled).toEqual([false, false, false, false, false, true, true]);
  });

  it('is done, not stalled, when every track is analysed', () => {
    const tracker = new SonicProgressTracker({ stallReadings: 1 });
    tracker.add({ at: 0, analyzed: 100, total: 100, cpuPercent: 0 });
    expect(tracker.add({ at: MINUTE, analyzed: 100, total: 100, cpuPercent: 0 })).toMatchObject({ done: true, stalled: false, etaMs: 0, percent: 100 });
  });
});
