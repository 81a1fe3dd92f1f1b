/**
 * `npm run demo`: the main job on its embedded default. A whole `delta` job with the `local`
 * provider, everything on this machine: a generated media tree served as an rclone "bucket", a
 * home plex-sim with its library scanned, plex.tv's double, the daemon, and `plexlift run --mode
 * delta --wait`: the agent mounts the bucket, restores home's library, scans what is new,
 * analyses, and the archive comes home, is installed, and the report printed.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfig } from '@plexlift/shared';
import { runCli } from '../packages/controller/src/cli/program.js';
import { startDaemon } from '../packages/controller/src/daemon.js';
import { createLogger } from '../packages/controller/src/logger.js';
import { startPlexTvSim } from '../test/plex-tv-sim/plex-tv-sim.js';
import { createHomePlex } from '../test/utils/home-plex.js';
import { plexSimCommand } from '../test/utils/local-plex.js';
import { freePort } from '../test/utils/free-port.js';
import { serveBucket } from '../test/utils/rclone-mount.js';

const { values } = parseArgs({ options: { dir: { type: 'string' } } });
if (!values.dir) throw new Error('--dir is required');
const dir = values.dir;
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const say = (text: string) => process.stderr.write(`\n== ${text}\n`);

// Everything started is stopped at the end, whatever happens.
const running: (() => Promise<void>)[] = [];
try {
  say('home: a Plex (plex-sim) with films, shows and music, scanned');
  const home = await createHomePlex(join(dir, 'home'), {
    media: { movies: 8, shows: 2, seasons: 1, episodes: 4, artists: 2, albums: 2, tracks: 5 },
    sections: ['movie', 'show', 'artist'],
  });
  running.push(() => home.close());
  for (let i = 1; i <= 3; i++) {
    const folder = join(home.media.roots.movies, `New Release ${i} (2026)`);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `New Release ${i} (2026).mkv`), Buffer.alloc(64 * 1024, i));
  }
  say('3 new films land in the media folder; the home server has not scanned them');
  const bucket = await serveBucket(join(dir, 'home', 'media'));
  running.push(() => bucket.stop());
  const tv = await startPlexTvSim({ accountToken: 'demo-owner-token' });
  running.push(() => tv.close());

  const fast = { graceMs: 500, intervalMs: 200, consecutive: 3, cpuThresholdPercent: 100, timeoutMs: 600_000 };
  writeFileSync(join(dir, 'cloud-plex.json'), JSON.stringify({ speed: 100 }));
  writeFileSync(
    join(dir, 'agent-tuning.json'),
    JSON.stringify({
      idle: { scan: fast, analyze: fast, refresh: fast },
      sonic: { intervalMs: 300, timeoutMs: 600_000, tracker: { stallReadings: 100 } },
      readyTimeoutMs: 60_000,
      cpuSampleMs: 2_000,
    }),
  );
  const config = parseConfig(
    {
      server: { port: await freePort(), host: '127.0.0.1', stateDir: join(dir, 'state') },
      home: {
        plexDataDir: home.paths.pms,
        plexUrl: home.url,
        plexToken: 'demo-owner-token',
        plexTvUrl: tv.url,
        control: home.controlConfig,
        startTimeoutSeconds: 60,
      },
      media: { mountPath: join(dir, 'home', 'media'), remote: bucket.remote, vfsProfile: 'lite' },
      provider: 'local',
      providers: { local: { plexCommand: plexSimCommand(join(dir, 'cloud-plex.json'), tv.url), tuningFile: join(dir, 'agent-tuning.json') } },
    },
    'demo',
  );
  // The CLI finds the daemon (its port) and its admin token (a file in the state folder) through the config.
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const daemon = await startDaemon(config, { logger: createLogger((level, line) => process.stderr.write(`daemon ${level}: ${line}\n`)) });
  running.push(() => daemon.close());

  say('plexlift db stats (home, before)');
  await runCli(['node', 'plexlift', 'db', 'stats', home.paths.mainDb]);
  say(`plexlift run --mode delta --wait --config ${join(dir, 'config.json')}`);
  await runCli(['node', 'plexlift', 'run', '--mode', 'delta', '--wait', '--config', join(dir, 'config.json')]);
  const status = typeof process.exitCode === 'number' ? process.exitCode : 0;
  say('plexlift db stats (home, after)');
  await runCli(['node', 'plexlift', 'db', 'stats', home.paths.mainDb]);
  process.exitCode = status;
} finally {
  for (const stop of running.reverse()) await stop().catch(() => undefined);
}
