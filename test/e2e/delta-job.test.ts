import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { MAIN_DB_NAME } from '@plexlift/shared/plex-db';
import { AGENT_PHASE_NAMES, parseJobSpec, type AgentEvent } from '@plexlift/shared/protocol';
import { HomeConnection } from '../../packages/agent/src/connection.js';
import type { JobState } from '../../packages/agent/src/job-state.js';
import { Journal } from '../../packages/agent/src/journal.js';
import { createLocalPlexRuntime } from '../../packages/agent/src/local-plex-runtime.js';
import { runPhases } from '../../packages/agent/src/phase-runner.js';
import { AGENT_PHASE_LIST } from '../../packages/agent/src/phases/index.js';
import { dataDirPaths } from '../plex-sim/data-dir.js';
import { readPreferences } from '../plex-sim/preferences-file.js';
import { plexSimCommand } from '../utils/local-plex.js';
import { readStatsOf } from '../utils/sqlite-files.js';
import { prepareDeltaJob } from './delta-job-fixture.js';

const FAST = { graceMs: 150, intervalMs: 50, consecutive: 3, cpuThresholdPercent: 100, timeoutMs: 120_000 };

describe('a full delta job', () => {
  it('runs every agent phase in order against plex-sim over a real rclone mount; every event arrives once and the archive digest matches', async () => {
    const { dir, media, transfers, tv, agentHome } = await prepareDeltaJob();

    // The agent.
    const vm = join(dir, 'vm');
    mkdirSync(vm);
    const journal = new Journal(join(vm, 'journal.db'), 'job-e2e');
    const connection = new HomeConnection({ url: agentHome.url, jobId: 'job-e2e', agentVersion: '0.1.0', token: () => 'bootstrap', journal, onCommand: () => undefined, retryDelayMs: () => 50 });
    onTestFinished(async () => {
      await connection.close();
      journal.close();
    });
    await connection.start();
    const job = parseJobSpec((await connection.job()).spec);
    writeFileSync(join(vm, 'knobs.json'), JSON.stringify({ speed: 200 }));
    const paths = dataDirPaths(join(vm, 'config'));
    const runtime = createLocalPlexRuntime({
      command: plexSimCommand(join(vm, 'knobs.json'), tv.url),
      configDir: paths.config,
    });
    const state: JobState = {
      connection,
      runtime,
      readPlexToken: () => readPreferences(paths.preferences).get('PlexOnlineToken'),
      workDir: vm,
      pmsDir: paths.pms,
      mainDb: paths.mainDb,
      readyTimeoutMs: 30_000,
      idle: { scan: FAST, analyze: FAST, refresh: FAST },
      sonic: { intervalMs: 100, timeoutMs: 60_000, tracker: { stallReadings: 50 } },
    };
    onTestFinished(async () => {
      await runtime.stop({ graceMs: 1_000 });
      await state.mount?.unmount();
    });

    let reported = 0;
    const run = await runPhases(AGENT_PHASE_LIST, {
      job,
      state,
      signal: new AbortController().signal,
      report: (event) => {
        reported += 1;
        connection.report(event);
      },
    });
    await connection.drained();

    expect(run.completed).toEqual(AGENT_PHASE_NAMES.filter((name) => !['remap', 'refresh'].includes(name)));
    expect(run.skipped).toEqual(['remap', 'refresh']);
    // Every event once: a start and a complete per phase that ran, in order.
    const phaseEvents = agentHome.events.filter((e): e is Extract<AgentEvent, { type: 'phase:start' | 'phase:complete' }> => e.type === 'phase:start');
    expect(phaseEvents.map((e) => e.phase)).toEqual(run.completed);
    expect(journal.pendingCount()).toBe(0);
    expect(agentHome.events).toHaveLength(reported); // each event once, none lost
    const completes = agentHome.events.filter((e) => e.type === 'phase:complete');
    expect(new Set(completes.map((e) => ('phase' in e ? e.phase : ''))).size).toBe(completes.length);

    // The archive arrived and is the one the agent made.
    const uploaded = completes.find((e) => e.type === 'phase:complete' && e.phase === 'upload') as Extract<AgentEvent, { type: 'phase:complete' }>;
    const archive = transfers.archivePath('job-e2e-export');
    expect(createHash('sha256').update(readFileSync(archive)).digest('hex')).toBe(uploaded.summary.sha256);
    const unpacked = join(dir, 'home-install');
    mkdirSync(unpacked);
    execFileSync('bash', ['-c', 'zstd -d -q -c "$0" | tar -x -C "$1"', archive, unpacked]);
    const stats = readStatsOf(join(unpacked, 'Plug-in Support', 'Databases', MAIN_DB_NAME));
    expect(stats.library.sections.map((s) => [s.title, s.counts.movie + s.counts.track])).toEqual([
      ['Movies', media.movies.length],
      ['Music', media.tracks.length],
    ]);
    expect(stats.sonic).toEqual([{ sectionId: 2, analyzed: media.tracks.length, total: media.tracks.length }]);
  });
});
