import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startPlexTvSim } from '../plex-tv-sim/plex-tv-sim.js';
import { freePort } from '../utils/free-port.js';
import { startHomePlex } from '../utils/home-plex-fixture.js';
import { plexSimCommand } from '../utils/local-plex.js';
import { serveBucket } from '../utils/rclone-mount.js';
import { runCli } from '../utils/run-cli.js';
import { readStatsOf } from '../utils/sqlite-files.js';
import { createTempDir } from '../utils/temp-dir.js';

const BIN = fileURLToPath(new URL('../../packages/controller/src/cli/bin.ts', import.meta.url));
const OWNER_TOKEN = 'owner-Zq81xKp2vT9wLm4';
const FAST = { graceMs: 150, intervalMs: 50, consecutive: 3, cpuThresholdPercent: 100, timeoutMs: 120_000 };

/** `plexlift serve` as its own process, until the test ends. */
async function serve(configPath: string) {
  const daemon = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', BIN, 'serve', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  daemon.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
  daemon.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  onTestFinished(async () => {
    if (daemon.exitCode === null) {
      daemon.kill('SIGTERM');
      await once(daemon, 'exit');
    }
  });
  for (let i = 0; !log.includes('plexlift listening'); i++) {
    if (daemon.exitCode !== null || i > 300) throw new Error(`plexlift serve did not start: ${log}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { log: () => log };
}

/** A home Plex with two films it has not seen yet, the media bucket, plex.tv, a config, and the daemon. */
async function prepare() {
  const home = await startHomePlex({ sections: ['movie', 'artist'], media: { movies: 4, artists: 1, albums: 1, tracks: 3 } });
  // New films the home server has not scanned yet: the cloud finds them.
  for (let i = 1; i <= 2; i++) {
    mkdirSync(join(home.media.roots.movies, `Fresh Film ${i} (2026)`), { recursive: true });
    writeFileSync(join(home.media.roots.movies, `Fresh Film ${i} (2026)`, `Fresh Film ${i} (2026).mkv`), Buffer.alloc(8192, i));
  }
  const bucket = await serveBucket(join(home.dir, 'media'));
  onTestFinished(() => bucket.stop());
  const tv = await startPlexTvSim({ accountToken: OWNER_TOKEN });
  onTestFinished(() => tv.close());

  const dir = createTempDir('plexlift-');
  writeFileSync(join(dir, 'knobs.json'), JSON.stringify({ speed: 200 }));
  writeFileSync(join(dir, 'tuning.json'), JSON.stringify({ idle: { scan: FAST, analyze: FAST, refresh: FAST }, sonic: { intervalMs: 100, timeoutMs: 60_000, tracker: { stallReadings: 50 } }, readyTimeoutMs: 30_000, cpuSampleMs: 500, mountCheckMs: 1_000 }));
  const port = await freePort();
  const config = {
    server: { port, host: '127.0.0.1', stateDir: join(dir, 'state') },
    home: { plexDataDir: home.paths.pms, plexUrl: home.url, plexToken: OWNER_TOKEN, plexTvUrl: tv.url, control: home.controlConfig, startTimeoutSeconds: 30 },
    media: { mountPath: join(home.dir, 'media'), remote: bucket.remote, vfsProfile: 'lite' },
    provider: 'local',
    providers: { local: { plexCommand: plexSimCommand(join(dir, 'knobs.json'), tv.url), tuningFile: join(dir, 'tuning.json') } },
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const daemon = await serve(join(dir, 'config.json'));

  return { home, tv, dir, daemon, configPath: join(dir, 'config.json') };
}

describe('plexlift run, end to end with the local provider', () => {
  it('a delta job against a home and a cloud plex-sim: the home library gets the new films, the counts match the report, a backup exists', { timeout: 170_000 }, async () => {
    const { home, tv, dir, daemon } = await prepare();
    // --keep: the agent's folder (its log) stays for the secrets check below; the agent itself is gone.
    const run = await runCli(['run', '--mode', 'delta', '--wait', '--keep', '--config', join(dir, 'config.json')]);
    const agents = join(dir, 'state', 'agents');
    const agentLogs = () => readdirSync(agents).map((job) => readFileSync(join(agents, job, 'agent.log'), 'utf8')).join('\n');
    expect(run.status, `${run.stderr}\n${daemon.log()}\n${agentLogs()}`).toBe(0);
    // The progress the user saw, phase by phase, and the report.
    for (const phase of ['provision', 'connect', 'mount', 'restore', 'scan', 'analyze', 'upload', 'teardown', 'install']) expect(run.stderr).toContain(`✓ ${phase}`);
    expect(run.stderr).toMatch(/ {2}restore \| \d+% \| [\d.,]+ chunks\/min \| ETA \d+s/);
    expect(run.stdout).toMatch(/Movies +4 → 6 \(\+2\)/);

    const stats = readStatsOf(home.paths.mainDb).library.sections;
    expect(stats.map((s) => [s.title, s.counts.movie, s.counts.track])).toEqual([
      ['Movies', 6, 0],
      ['Music', 0, 3],
    ]);
    const backups = readdirSync(join(dir, 'state', 'backups'));
    expect(backups).toHaveLength(1);
    expect(existsSync(join(dir, 'state', 'backups', backups[0]!, 'manifest.json'))).toBe(true);

    const jobs = await runCli(['jobs', '--json', '--config', join(dir, 'config.json')]);
    const [job] = JSON.parse(jobs.stdout) as { state: string; report: { libraries: { sections: { title: string; counts: { movie: number } }[] } } }[];
    expect(job?.state).toBe('done');
    expect(job?.report.libraries.sections.find((s) => s.title === 'Movies')?.counts.movie).toBe(2);
    // Nothing left running.
    const processes = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map((p) => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8'); } catch { return ''; } });
    expect(processes.filter((cmd) => cmd.includes(join(dir, 'state', 'agents')))).toEqual([]);

    // No secret in any log or event: tokens by their shapes, plus the ones known by value.
    const store = new Database(join(dir, 'state', 'plexlift.db'), { readonly: true });
    const events = (store.prepare('SELECT payload_json FROM events').pluck().all() as string[]).join('\n');
    store.close();
    const cloudLogs = readdirSync(agents).map((job) => readFileSync(join(agents, job, 'plex', 'Library', 'Application Support', 'Plex Media Server', 'Logs', 'Plex Media Server.log'), 'utf8')).join('\n');
    const everything = [run.stdout, run.stderr, jobs.stdout, daemon.log(), agentLogs(), cloudLogs, events].join('\n');
    expect(events.length).toBeGreaterThan(1_000);
    const adminToken = readFileSync(join(dir, 'state', 'admin-token'), 'utf8').trim();
    for (const secret of [adminToken, OWNER_TOKEN, ...tv.serverTokens]) expect(everything.includes(secret), `a secret leaked`).toBe(false);
    expect(everything.match(/plx_[abst]_[\w-]{20,}|claim-[\w-]{10,}/g)).toBeNull();
  });

  it('--no-install stops at the verified archive; plexlift install puts it in later; rollback and backups work without the daemon', { timeout: 170_000 }, async () => {
    const { home, configPath } = await prepare();
    const run = await runCli(['run', '--mode', 'delta', '--wait', '--no-install', '--config', configPath]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toContain('✓ install (skipped)');
    expect(readStatsOf(home.paths.mainDb).library.sections[0]?.counts.movie).toBe(4);
    const [job] = JSON.parse((await runCli(['jobs', '--json', '--config', configPath])).stdout) as { id: string; state: string }[];
    expect(job?.state).toBe('verified');

    const install = await runCli(['install', job!.id, '--config', configPath]);
    expect(install.status, install.stderr).toBe(0);
    expect(install.stdout).toMatch(/Movies +4 → 6 \(\+2\)/);
    expect(readStatsOf(home.paths.mainDb).library.sections[0]?.counts.movie).toBe(6);
    const again = await runCli(['install', job!.id, '--config', configPath]);
    expect(again).toMatchObject({ status: 2, stderr: expect.stringMatching(/has no verified archive waiting to be installed \(it is done\)/) });

    const logs = await runCli(['logs', job!.id, '--config', configPath]);
    expect(logs.stdout).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d provision: started$/m);
    expect(logs.stdout).toMatch(/ install: done /);
    const backups = await runCli(['backups', 'list', '--json', '--config', configPath]);
    expect(JSON.parse(backups.stdout)).toHaveLength(1);
    const rollback = await runCli(['rollback', '--config', configPath]);
    expect(rollback.status, rollback.stderr).toBe(0);
    expect(rollback.stdout).toMatch(/the home library is back as it was before job job-/);
    expect(readStatsOf(home.paths.mainDb).library.sections[0]?.counts.movie).toBe(4);
  });
});
