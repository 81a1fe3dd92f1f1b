import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { backupDatabase, BLOBS_DB_NAME, MAIN_DB_NAME } from '@plexlift/shared/plex-db';
import { AGENT_PHASE_NAMES, parseJobSpec, type AgentEvent } from '@plexlift/shared/protocol';
import { HomeConnection } from '../../packages/agent/src/connection.js';
import type { JobState } from '../../packages/agent/src/job-state.js';
import { Journal } from '../../packages/agent/src/journal.js';
import { createLocalPlexRuntime } from '../../packages/agent/src/local-plex-runtime.js';
import { runPhases } from '../../packages/agent/src/phase-runner.js';
import { AGENT_PHASE_LIST } from '../../packages/agent/src/phases/index.js';
import { createPlexArchive } from '../../packages/agent/src/plex-archive.js';
import { dataDirPaths } from '../plex-sim/data-dir.js';
import { startTestSim } from '../plex-sim/sim-fixture.js';
import { readPreferences } from '../plex-sim/preferences-file.js';
import { startPlexTvSim } from '../plex-tv-sim/plex-tv-sim.js';
import { startAgentHome } from '../utils/agent-home.js';
import { createMediaTree } from '../utils/media-tree.js';
import { serveBucket } from '../utils/rclone-mount.js';
import { readStatsOf } from '../utils/sqlite-files.js';
import { createTempDir } from '../utils/temp-dir.js';
import { startTransferHome } from '../utils/transfer-home.js';

const SIM = fileURLToPath(new URL('../plex-sim/main.ts', import.meta.url));
const FAST = { graceMs: 150, intervalMs: 50, consecutive: 3, cpuThresholdPercent: 100, timeoutMs: 120_000 };

describe('a full delta job', () => {
  it('runs every agent phase in order against plex-sim over a real rclone mount; every event arrives once and the archive digest matches', async () => {
    const dir = createTempDir();
    const bucket = join(dir, 'bucket');
    const media = createMediaTree(bucket, { movies: 5, artists: 2, albums: 2, tracks: 4 });
    const mediaPath = join(dir, 'Media'); // where home (and so the VM) sees the media

    // Home: a library scanned at `mediaPath`, then a consistent snapshot of its DBs, published.
    symlinkSync(bucket, mediaPath);
    const home = await startTestSim({ dataDir: join(dir, 'home') });
    await home.addSection('Movies', 'movie', join(mediaPath, 'Movies'));
    await home.addSection('Music', 'artist', join(mediaPath, 'Music'));
    await home.sim.stop();
    rmSync(mediaPath);
    const snapshot = join(dir, 'snapshot', 'Plex Media Server');
    mkdirSync(join(snapshot, 'Plug-in Support', 'Databases'), { recursive: true });
    for (const name of [MAIN_DB_NAME, BLOBS_DB_NAME]) await backupDatabase(join(home.sim.paths.databases, name), join(snapshot, 'Plug-in Support', 'Databases', name));
    const snapshotArchive = createPlexArchive(snapshot);
    await Promise.all([pipeline(snapshotArchive.stream, createWriteStream(join(dir, 'snapshot.tar.zst'))), snapshotArchive.finished]);
    const transfers = await startTransferHome(join(dir, 'transfers'), 'session-token');
    onTestFinished(() => transfers.close());
    await transfers.publish('job-e2e-restore', join(dir, 'snapshot.tar.zst'), 64 * 1024);

    // The cloud side's dependencies: the bucket served, plex.tv, the controller's agent endpoint.
    const served = await serveBucket(bucket);
    onTestFinished(() => served.stop());
    const tv = await startPlexTvSim({ accountToken: 'owner' });
    onTestFinished(() => tv.close());
    const claim = ((await (await fetch(`${tv.url}/api/claim/token.json`, { headers: { 'X-Plex-Token': 'owner' } })).json()) as { token: string }).token;
    const spec = { jobId: 'job-e2e', mode: 'delta', plex: { version: '1.43.2.10687-563d026ea' }, media: { mountPath: mediaPath, remote: served.remote, vfsProfile: 'lite' } };
    const agentHome = await startAgentHome({
      tokens: ['bootstrap'],
      job: { spec, secrets: { claimToken: claim }, transfers: { baseUrl: transfers.url, token: 'session-token', restoreId: 'job-e2e-restore', exportId: 'job-e2e-export' } },
    });
    onTestFinished(() => agentHome.close());

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
      command: [process.execPath, '--conditions=source', '--import', 'tsx', SIM, '--port', '0', '--host', '127.0.0.1', '--config', join(vm, 'knobs.json'), '--plex-tv-url', tv.url],
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
