import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJobSpec, type AgentEvent } from '@plexlift/shared/protocol';
import type { JobState } from '../../packages/agent/src/job-state.js';
import { runPhases } from '../../packages/agent/src/phase-runner.js';
import { analyze } from '../../packages/agent/src/phases/analyze.js';
import { plexStart } from '../../packages/agent/src/phases/plex-start.js';
import { plexStop } from '../../packages/agent/src/phases/plex-stop.js';
import { preflight } from '../../packages/agent/src/phases/preflight.js';
import { refresh } from '../../packages/agent/src/phases/refresh.js';
import { scan } from '../../packages/agent/src/phases/scan.js';
import { sonic } from '../../packages/agent/src/phases/sonic.js';
import { stabilize } from '../../packages/agent/src/phases/stabilize.js';
import { warm } from '../../packages/agent/src/phases/warm.js';
import { createMediaTree } from '../utils/media-tree.js';
import { readStatsOf } from '../utils/sqlite-files.js';
import { createLocalPlex } from '../utils/local-plex.js';
import { createTempDir } from '../utils/temp-dir.js';

const FAST = { graceMs: 150, intervalMs: 50, consecutive: 3, cpuThresholdPercent: 100, timeoutMs: 120_000 };

/**
 * The Plex half of a job on a real Plex process (plex-sim) with the phases strung by the runner:
 * plex-start → preflight → scan → warm → analyze → refresh → stabilize → sonic → plex-stop.
 * A scan-mode library is created first, as the controller's spec would ask.
 */
async function plexJob(options: { subscriptionActive: boolean; forceRefresh?: boolean }) {
  const dir = createTempDir();
  const media = createMediaTree(join(dir, 'media'), { movies: 4, artists: 2, albums: 2, tracks: 5 });
  const { runtime, paths, claim, readToken } = await createLocalPlex(join(dir, 'vm'), { subscriptionActive: options.subscriptionActive });
  const state: JobState = {
    runtime,
    readPlexToken: readToken,
    secrets: { claimToken: claim },
    readyTimeoutMs: 30_000,
    mainDb: paths.mainDb,
    workDir: dir,
    pmsDir: paths.pms,
    idle: { scan: FAST, analyze: FAST, refresh: FAST },
    sonic: { intervalMs: 100, timeoutMs: 60_000, tracker: { stallReadings: 50 } },
  };
  const job = parseJobSpec({ jobId: 'job-plex', mode: 'delta', plex: { version: '1.43.2.10687-563d026ea' }, media: { mountPath: join(dir, 'media'), remote: 'r:' }, forceRefresh: options.forceRefresh ?? false });
  const events: AgentEvent[] = [];
  const report = (event: AgentEvent) => events.push(event);
  // The library as home would have it: created and scanned once on this Plex.
  await runPhases([plexStart], { job, state, signal: new AbortController().signal, report: () => undefined });
  for (const [name, type, location] of [['Movies', 'movie', media.roots.movies], ['Music', 'artist', media.roots.music]] as const) {
    await state.plex!.createSection({ name, type, agent: '', scanner: '', language: 'en-US', locations: [location] });
  }
  return { job, state, events, report, paths, media };
}

describe('the Plex phases of a job, on a real Plex process', () => {
  it('run in order and leave an analysed, Sonic-complete library with the DB checkpointed', async () => {
    const { job, state, events, report, paths, media } = await plexJob({ subscriptionActive: true, forceRefresh: true });
    const run = await runPhases([preflight, scan, warm, analyze, refresh, stabilize, sonic, plexStop], { job, state, signal: new AbortController().signal, report });
    expect(run.completed).toEqual(['preflight', 'scan', 'warm', 'analyze', 'refresh', 'stabilize', 'sonic', 'plex-stop']);
    expect(events.filter((e) => e.type === 'phase:start').map((e) => ('phase' in e ? e.phase : ''))).toEqual(run.completed);
    const sonicProgress = events.filter((e) => e.type === 'phase:progress' && e.phase === 'sonic');
    expect(sonicProgress.some((e) => e.type === 'phase:progress' && e.etaMs !== undefined && e.rate?.unit === 'tracks/h')).toBe(true);
    // Checked before anything reads the DB: a read-only connection leaves its own -wal behind.
    expect(existsSync(`${paths.mainDb}-wal`)).toBe(false);
    const { library, sonic: sonicCounts } = readStatsOf(paths.mainDb);
    expect(library.sections.map((s) => [s.title, s.counts.movie + s.counts.track])).toEqual([
      ['Movies', media.movies.length],
      ['Music', media.tracks.length],
    ]);
    expect(sonicCounts).toEqual([{ sectionId: 2, analyzed: media.tracks.length, total: media.tracks.length }]);
    expect(state.runtime!.isRunning()).toBe(false);
  });

  it('stops at Sonic without Plex Pass, saying so', async () => {
    const { job, state, report } = await plexJob({ subscriptionActive: false });
    await expect(runPhases([scan, stabilize, sonic], { job, state, signal: new AbortController().signal, report })).rejects.toMatchObject({
      code: 'SAFETY_STOP',
      message: expect.stringMatching(/Sonic analysis needs Plex Pass/),
    });
  });
});
