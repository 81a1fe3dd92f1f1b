import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';
import { startPlexTvSim } from '../plex-tv-sim/plex-tv-sim.js';
import { freePort } from '../utils/free-port.js';
import { startHomePlex } from '../utils/home-plex-fixture.js';
import { plexSimCommand } from '../utils/local-plex.js';
import { serveBucket } from '../utils/rclone-mount.js';
import { createTempDir } from '../utils/temp-dir.js';

const BIN = fileURLToPath(new URL('../../packages/controller/src/cli/bin.ts', import.meta.url));
export const OWNER_TOKEN = 'owner-Zq81xKp2vT9wLm4';
const FAST = { graceMs: 150, intervalMs: 50, consecutive: 3, cpuThresholdPercent: 100, timeoutMs: 120_000 };

/** `plexlift serve` as its own process, until the test ends. */
export async function serve(configPath: string) {
  const daemon = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', BIN, 'serve', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  daemon.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
  daemon.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  onTestFinished(async () => {
    if (daemon.exitCode === null && daemon.signalCode === null) {
      daemon.kill('SIGTERM');
      await once(daemon, 'exit');
    }
  });
  for (let i = 0; !log.includes('plexlift listening'); i++) {
    if (daemon.exitCode !== null || i > 300) throw new Error(`plexlift serve did not start: ${log}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    log: () => log,
    /** SIGHUP: reread the config. */
    reload: () => daemon.kill('SIGHUP'),
    /** SIGKILL: no goodbye, no cleanup (what a power cut or an OOM kill does). */
    kill: async () => {
      if (daemon.exitCode !== null || daemon.signalCode !== null) return;
      const exited = once(daemon, 'exit');
      daemon.kill('SIGKILL');
      await exited;
    },
  };
}

/** A home Plex with two films it has not seen yet, the media bucket, plex.tv, a config, and the daemon. */
export async function prepare(options: { daemon?: boolean } = {}) {
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
  const daemon = options.daemon === false ? undefined : await serve(join(dir, 'config.json'));

  return { home, tv, dir, daemon, configPath: join(dir, 'config.json') };
}

