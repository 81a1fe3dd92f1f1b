import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { startPlexTvSim } from '../plex-tv-sim/plex-tv-sim.js';
import { freePort } from '../utils/free-port.js';
import { startHomePlex } from '../utils/home-plex-fixture.js';
import { startPlexliftDaemon, writeLocalJobConfig, type PlexliftDaemon } from '../utils/plexlift-daemon.js';
import { startObjectStoreProxy } from '../utils/object-store-proxy.js';
import { serveBucket } from '../utils/rclone-mount.js';
import type { MediaTreeSize } from '../utils/media-tree.js';
import { createTempDir } from '../utils/temp-dir.js';
import { FAST_IDLE } from '../utils/fast-idle.js';

export const OWNER_TOKEN = 'owner-Zq81xKp2vT9wLm4';

/** `plexlift serve` as its own process, until the test ends. */
export async function serve(configPath: string): Promise<PlexliftDaemon> {
  const daemon = await startPlexliftDaemon(configPath);
  onTestFinished(() => daemon.stop());
  return daemon;
}

/** A home Plex with two films it has not seen yet, the media bucket, plex.tv, a config, and the daemon. */
export async function prepare(
  options: {
    daemon?: boolean;
    media?: MediaTreeSize;
    /** The home sections (a movie and a music library unless said). */
    sections?: ('movie' | 'show' | 'artist')[];
    /** Media files (paths under the bucket, `/Movies/…`) that list but fail to read. */
    unreadable?: (path: string) => boolean;
    knobs?: Record<string, unknown>;
    /** The agent's Sonic tuning, over the fast defaults below. */
    sonic?: Record<string, unknown>;
    /** More of the agent's tuning (JobTuning), over the defaults below. */
    tuning?: Record<string, unknown>;
  } = {},
) {
  const home = await startHomePlex({
    sections: options.sections ?? ['movie', 'artist'],
    media: { movies: 4, artists: 1, albums: 1, tracks: 3, ...options.media },
  });
  // New films the home server has not scanned yet: the cloud finds them.
  for (let i = 1; i <= 2; i++) {
    mkdirSync(join(home.media.roots.movies, `Fresh Film ${i} (2026)`), { recursive: true });
    writeFileSync(join(home.media.roots.movies, `Fresh Film ${i} (2026)`, `Fresh Film ${i} (2026).mkv`), Buffer.alloc(8192, i));
  }
  const bucket = await serveBucket(join(home.dir, 'media'));
  onTestFinished(() => bucket.stop());
  const degraded = options.unreadable ? await startObjectStoreProxy(bucket.url, { failRead: options.unreadable }) : undefined;
  if (degraded) onTestFinished(() => degraded[Symbol.asyncDispose]());
  const tv = await startPlexTvSim({ accountToken: OWNER_TOKEN });
  onTestFinished(() => tv.close());

  const dir = createTempDir('plexlift-');
  const configPath = writeLocalJobConfig({
    dir,
    port: await freePort(),
    home,
    plexTvUrl: tv.url,
    plexToken: OWNER_TOKEN,
    remote: degraded ? `:http,url='${degraded.url}':` : bucket.remote,
    knobs: { speed: 200, ...options.knobs },
    tuning: {
      idle: FAST_IDLE,
      sonic: { intervalMs: 100, timeoutMs: 60_000, tracker: { stallReadings: 50 }, ...options.sonic },
      readyTimeoutMs: 30_000,
      cpuSampleMs: 500,
      mountCheckMs: 1_000,
      ...options.tuning,
    },
  });
  const daemon = options.daemon === false ? undefined : await serve(configPath);

  return { home, tv, dir, daemon, configPath };
}
