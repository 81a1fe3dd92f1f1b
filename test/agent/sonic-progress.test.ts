import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createHostCpuMonitor } from '../../packages/agent/src/monitors/cpu-monitor.js';
import { SonicProgressTracker, type SonicStatus } from '../../packages/agent/src/monitors/sonic-progress-tracker.js';
import { startPlexTvSim } from '../plex-tv-sim/plex-tv-sim.js';
import { readPreferences } from '../plex-sim/preferences-file.js';
import { startTestSim } from '../plex-sim/sim-fixture.js';
import { readStatsOf } from '../utils/sqlite-files.js';

async function sonicRun(faults: { stallAnalysis: boolean }) {
  const tv = await startPlexTvSim({ accountToken: 'owner' });
  const claim = ((await (await fetch(`${tv.url}/api/claim/token.json`, { headers: { 'X-Plex-Token': 'owner' } })).json()) as { token: string }).token;
  const test = await startTestSim({ claimToken: claim, plexTvUrl: tv.url, media: { artists: 3, albums: 2, tracks: 10 }, faults });
  const token = readPreferences(test.sim.paths.preferences).get('PlexOnlineToken')!;
  await test.sim.ready;
  await test.api(`/library/sections?name=Music&type=artist&location=${encodeURIComponent(test.media.roots.music)}`, { method: 'POST', token });
  await test.sim.jobs.idle();
  test.sim.runtime.options.speed = 50; // 2 s per track becomes 40 ms
  await test.api('/butler/MusicAnalysis', { method: 'POST', token });
  return { ...test, close: () => tv.close() };
}

/** Reads the DB count and the CPU every `intervalMs`, as the sonic phase does, until done or stalled. */
async function watch(dbPath: string, tracker: SonicProgressTracker, intervalMs: number, limit: number): Promise<SonicStatus[]> {
  const cpu = await createHostCpuMonitor();
  const statuses: SonicStatus[] = [];
  for (let i = 0; i < limit; i++) {
    // Time between readings is what the tracker measures (rate, ETA, stall), so it has to pass.
    await sleep(intervalMs);
    const progress = readStatsOf(dbPath).sonic[0]!;
    const status = tracker.add({ at: performance.now(), analyzed: progress.analyzed, total: progress.total, cpuPercent: await cpu.read() });
    statuses.push(status);
    if (status.done || status.stalled) break;
  }
  return statuses;
}

describe('Sonic progress against plex-sim', () => {
  it('reports progress, rate and an ETA until every track is analysed', async () => {
    const run = await sonicRun({ stallAnalysis: false });
    const statuses = await watch(run.sim.paths.mainDb, new SonicProgressTracker({ stallReadings: 50, window: 5 }), 100, 300);
    await run.close();
    const last = statuses.at(-1)!;
    expect(last).toMatchObject({ done: true, stalled: false, analyzed: 60, total: 60, percent: 100 });
    const middle = statuses.find((s) => s.analyzed > 0 && s.analyzed < 60 && s.etaMs !== undefined);
    expect(middle?.tracksPerHour).toBeGreaterThan(0);
  });

  it('detects a stalled analysis: the CPU stays busy and the count does not move', async () => {
    const run = await sonicRun({ stallAnalysis: true });
    // Real CPU, generous margins: whatever the machine does, no progress for 8 readings is a stall.
    const statuses = await watch(run.sim.paths.mainDb, new SonicProgressTracker({ stallReadings: 4, busyStallReadings: 8 }), 100, 60);
    await run.close();
    expect(statuses.at(-1)).toMatchObject({ stalled: true, done: false, analyzed: 0, total: 60 });
    expect(statuses.length).toBeLessThanOrEqual(9);
  });
});
