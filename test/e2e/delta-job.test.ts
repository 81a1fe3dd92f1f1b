import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { mainDatabasePath } from '@plexlift/shared/plex-db';
import { AGENT_PHASE_NAMES, parseJobSpec, type AgentEvent } from '@plexlift/shared/protocol';
import { HomeConnection } from '../../packages/agent/src/home/connection.js';
import type { JobState } from '../../packages/agent/src/job-state.js';
import { Journal } from '../../packages/agent/src/home/journal.js';
import { createLocalPlexRuntime } from '../../packages/agent/src/plex/local-plex-runtime.js';
import { runPhases } from '../../packages/agent/src/phase-runner.js';
import { AGENT_PHASE_LIST } from '../../packages/agent/src/phases/index.js';
import { dataDirPaths } from '../plex-sim/data-dir.js';
import { readPreferences } from '../plex-sim/preferences-file.js';
import { plexSimCommand } from '../utils/local-plex.js';
import { readStatsOf } from '../utils/sqlite-files.js';
import { prepareDeltaJob } from './delta-job-fixture.js';
import { FAST_IDLE } from '../utils/fast-idle.js';

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

type Fixture = Awaited<ReturnType<typeof prepareDeltaJob>>;

/** The agent side of the job, in this process: connected home, its state, and every phase run in order. */
async function startAgent(fixture: Fixture, tuning: Partial<JobState> = {}) {
  const vm = join(fixture.dir, 'vm');
  mkdirSync(vm);
  const journal = new Journal(join(vm, 'journal.db'), 'job-e2e');
  const connection = new HomeConnection({
    url: fixture.agentHome.url,
    jobId: 'job-e2e',
    agentVersion: '0.1.0',
    token: () => 'bootstrap',
    journal,
    onCommand: () => undefined,
    retryDelayMs: () => 50,
  });
  onTestFinished(async () => {
    await connection.close();
    journal.close();
  });
  await connection.start();
  const job = parseJobSpec((await connection.job()).spec);
  writeFileSync(join(vm, 'knobs.json'), JSON.stringify({ speed: 200 }));
  const paths = dataDirPaths(join(vm, 'config'));
  const runtime = createLocalPlexRuntime({ command: plexSimCommand(join(vm, 'knobs.json'), fixture.tv.url), configDir: paths.config });
  const state: JobState = {
    connection,
    runtime,
    readPlexToken: () => readPreferences(paths.preferences).get('PlexOnlineToken'),
    workDir: vm,
    pmsDir: paths.pms,
    mainDb: paths.mainDb,
    readyTimeoutMs: 30_000,
    idle: FAST_IDLE,
    sonic: { intervalMs: 100, timeoutMs: 60_000, tracker: { stallReadings: 50 } },
    ...tuning,
  };
  onTestFinished(async () => {
    await state.mountSupervisor?.stop();
    await runtime.stop({ graceMs: 1_000 });
    await state.mount?.unmount();
  });
  /** Every event in the order the phases reported it; `onEvent` sees each as it happens. */
  const reported: AgentEvent[] = [];
  const run = (onEvent: (event: AgentEvent) => void = () => undefined) =>
    runPhases(AGENT_PHASE_LIST, {
      job,
      state,
      signal: new AbortController().signal,
      report: (event) => {
        reported.push(event);
        connection.report(event);
        onEvent(event);
      },
    });
  return { vm, journal, connection, state, run, reported };
}

/** Home has each event exactly once, in the order the agent reported them. */
function expectEveryEventOnce(fixture: Fixture, reported: AgentEvent[]) {
  expect(fixture.agentHome.events).toHaveLength(reported.length);
  expect(fixture.agentHome.events).toEqual(reported);
}

describe('a full delta job', () => {
  it('runs every agent phase in order against plex-sim over a real rclone mount; every event arrives once and the archive digest matches', async () => {
    const fixture = await prepareDeltaJob();
    const { media, transfers, agentHome, dir } = fixture;
    const { journal, connection, run: runJob, reported } = await startAgent(fixture);
    const run = await runJob();
    await connection.drained();

    expect(run.completed).toEqual(AGENT_PHASE_NAMES.filter((name) => !['remap', 'refresh'].includes(name)));
    expect(run.skipped).toEqual(['remap', 'refresh']);
    // Every event once: a start and a complete per phase that ran, in order.
    const phaseEvents = agentHome.events.filter((e): e is Extract<AgentEvent, { type: 'phase:start' | 'phase:complete' }> => e.type === 'phase:start');
    expect(phaseEvents.map((e) => e.phase)).toEqual(run.completed);
    expect(journal.pendingCount()).toBe(0);
    expectEveryEventOnce(fixture, reported);
    const completes = agentHome.events.filter((e) => e.type === 'phase:complete');
    expect(new Set(completes.map((e) => ('phase' in e ? e.phase : ''))).size).toBe(completes.length);

    // The archive arrived and is the one the agent made.
    const uploaded = completes.find((e) => e.type === 'phase:complete' && e.phase === 'upload') as Extract<AgentEvent, { type: 'phase:complete' }>;
    const archive = transfers.archivePath('job-e2e-export');
    expect(sha256(archive)).toBe(uploaded.summary.sha256);
    expect(uploaded.summary.held).toBe(false);
    const unpacked = join(dir, 'home-install');
    mkdirSync(unpacked);
    execFileSync('bash', ['-c', 'zstd -d -q -c "$0" | tar -x -C "$1"', archive, unpacked]);
    const stats = readStatsOf(mainDatabasePath(unpacked));
    expect(stats.library.sections.map((s) => [s.title, s.counts.movie + s.counts.track])).toEqual([
      ['Movies', media.movies.length],
      ['Music', media.tracks.length],
    ]);
    expect(stats.sonic).toEqual([{ sectionId: 2, analyzed: media.tracks.length, total: media.tracks.length }]);
  });

  it('home unreachable in the middle of the scan: the agent keeps working, reconnects, and home gets every event once', async () => {
    const fixture = await prepareDeltaJob();
    const { agentHome } = fixture;
    const { connection, journal, run: runJob, reported } = await startAgent(fixture);
    let outage: Promise<void> | undefined;
    let reportedWhileAway = 0;
    let away = false;
    const run = await runJob((event) => {
      if (away) reportedWhileAway += 1;
      if (event.type === 'phase:start' && event.phase === 'scan') {
        away = true;
        outage = (async () => {
          await agentHome.stop();
          // Home stays away a while: the job must go on meanwhile.
          await sleep(1_500);
          await agentHome.start();
          away = false;
        })();
      }
    });
    await outage;
    await connection.drained();
    expect(run.completed).toContain('upload');
    expect(reportedWhileAway).toBeGreaterThan(3); // the job went on while home was away
    expect(agentHome.connections).toBeGreaterThan(1); // and the agent came back by itself
    expect(journal.pendingCount()).toBe(0);
    expectEveryEventOnce(fixture, reported);
  });

  it('home gone for longer than the job allows: the archive is kept on the VM and in the user bucket, then sent from there when home returns', async () => {
    // The user's bucket: a folder behind rclone's on-the-fly local backend.
    const fixture = await prepareDeltaJob({ extraSpec: (dir) => ({ offline: { holdAfterMinutes: 60, archiveRemote: `:local:${join(dir, 'user-bucket')}` } }) });
    const { agentHome, transfers, dir } = fixture;
    const { vm, connection, run: runJob, reported } = await startAgent(fixture, { holdAfterMs: 300 });
    const held = join(vm, 'held', 'job-e2e.tar.zst');
    let back: Promise<void> | undefined;
    const run = await runJob((event) => {
      if (event.type === 'phase:start' && event.phase === 'plex-stop') {
        back = (async () => {
          await Promise.all([agentHome.stop(), transfers.stop()]);
          // Home comes back once the archive is held and copied to the user's bucket (digest last).
          await vi.waitFor(() => expect(existsSync(join(dir, 'user-bucket', 'job-e2e.tar.zst.sha256')), 'the held archive in the user bucket').toBe(true), {
            timeout: 60_000,
            interval: 100,
          });
          await Promise.all([agentHome.start(), transfers.start()]);
        })();
      }
    });
    await back;
    await connection.drained();
    const uploaded = agentHome.events.find((e) => e.type === 'phase:complete' && e.phase === 'upload') as Extract<AgentEvent, { type: 'phase:complete' }>;
    expect(run.completed.at(-1)).toBe('upload');
    expect(uploaded.summary).toMatchObject({ held: true, heldPath: held, sha256: sha256(held) });
    expect(sha256(transfers.archivePath('job-e2e-export'))).toBe(sha256(held));
    expect(readFileSync(`${held}.sha256`, 'utf8')).toBe(`${sha256(held)}  job-e2e.tar.zst\n`);
    expect(sha256(join(dir, 'user-bucket', 'job-e2e.tar.zst'))).toBe(sha256(held));
    expect(uploaded.summary.copiedTo).toBe(`:local:${join(dir, 'user-bucket')}/job-e2e.tar.zst`);
    expect(agentHome.events.some((e) => e.type === 'log' && /the archive is kept on the VM/.test(e.message))).toBe(true);
    expectEveryEventOnce(fixture, reported);
  });
});
