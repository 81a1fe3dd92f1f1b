import { describe, expect, it } from 'vitest';
import { isIdle, waitUntilIdle, type IdleProfile, type IdleSample } from './idle-waiter.js';

const PROFILE: IdleProfile = { graceMs: 60_000, intervalMs: 30_000, consecutive: 3, cpuThresholdPercent: 20, timeoutMs: 4 * 3_600_000 };
const quiet: IdleSample = { busyActivities: 0, refreshing: false, updateQueueSize: 0, cpuPercent: 3 };

/** Replays a recorded series on a virtual clock: one reading per interval. */
function replay(series: Partial<IdleSample>[]) {
  let clock = 0;
  let i = 0;
  return {
    read: () => Promise.resolve({ ...quiet, ...(series[Math.min(i++, series.length - 1)] ?? {}) }),
    now: () => clock,
    sleep: (ms: number) => {
      clock += ms;
      return Promise.resolve();
    },
    readings: () => i,
  };
}

/** CPU percent of a real 2-core machine during a Plex scan (spiky, with quiet gaps mid-work). */
const RECORDED_SCAN_CPU = [4, 88, 97, 93, 12, 95, 91, 15, 99, 87, 64, 31, 18, 9, 6, 5, 4, 4];

describe('waitUntilIdle', () => {
  it('needs consecutive quiet readings after the grace period: a quiet gap mid-scan is not the end', async () => {
    const clock = replay(RECORDED_SCAN_CPU.map((cpuPercent) => ({ cpuPercent })));
    const result = await waitUntilIdle(clock.read, PROFILE, clock);
    // Readings 13-15 (18 %, 9 %, 6 %) are the first three quiet in a row.
    expect(result).toEqual({ samples: 15, sawWork: true, elapsedMs: 14 * 30_000 });
  });

  it('never ends inside the grace period, when refreshing has not turned true yet', async () => {
    const clock = replay([{}, {}, { refreshing: true }, { refreshing: true }, {}, {}, {}]);
    const result = await waitUntilIdle(clock.read, PROFILE, clock);
    expect(result.samples).toBe(7);
  });

  it('every signal keeps it waiting: activities, refreshing, the metadata queue, the CPU', () => {
    expect(isIdle(quiet, PROFILE)).toBe(true);
    expect(isIdle({ ...quiet, busyActivities: 1 }, PROFILE)).toBe(false);
    expect(isIdle({ ...quiet, refreshing: true }, PROFILE)).toBe(false);
    expect(isIdle({ ...quiet, updateQueueSize: 12 }, PROFILE)).toBe(false);
    expect(isIdle({ ...quiet, cpuPercent: 20 }, PROFILE)).toBe(false);
    expect(isIdle({ ...quiet, cpuPercent: undefined }, PROFILE)).toBe(true);
  });

  it('fails at the safety timeout with the last reading', async () => {
    const clock = replay([{ busyActivities: 1, cpuPercent: 95 }]);
    await expect(waitUntilIdle(clock.read, { ...PROFILE, timeoutMs: 10 * 60_000 }, { ...clock, label: 'the scan of "Music"' })).rejects.toMatchObject({
      code: 'PHASE_TIMEOUT',
      message:
        'the scan of "Music" was still busy after 10 min (last reading: 1 activities, refreshing no, queue 0, CPU 95 %); the safety timeout stops the wait',
    });
    expect(clock.readings()).toBe(21); // one every 30 s from 0 to 10 min
  });

  it('reports a wait that never saw work', async () => {
    const clock = replay([{}]);
    expect(await waitUntilIdle(clock.read, PROFILE, clock)).toMatchObject({ sawWork: false, samples: 5 });
  });
});
