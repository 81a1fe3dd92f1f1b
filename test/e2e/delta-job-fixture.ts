import { createWriteStream, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { onTestFinished } from 'vitest';
import { backupDatabase, BLOBS_DB_NAME, DATABASES_DIR, MAIN_DB_NAME } from '@plexlift/shared/plex-db';
import { createPlexArchive } from '@plexlift/shared/archive';
import { startTestSim } from '../plex-sim/sim-fixture.js';
import { startPlexTvSim } from '../plex-tv-sim/plex-tv-sim.js';
import { startAgentHome } from '../utils/agent-home.js';
import { createMediaTree } from '../utils/media-tree.js';
import { serveBucket } from '../utils/rclone-mount.js';
import { createTempDir } from '../utils/temp-dir.js';
import { startTransferHome } from '../utils/transfer-home.js';

/** Home with a scanned library, its snapshot published, the bucket served, plex.tv and the agent endpoint up. */
export async function prepareDeltaJob(options: { spec?: Record<string, unknown>; extraSpec?: (dir: string) => Record<string, unknown> } = {}) {
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
  mkdirSync(join(snapshot, DATABASES_DIR), { recursive: true });
  for (const name of [MAIN_DB_NAME, BLOBS_DB_NAME]) await backupDatabase(join(home.sim.paths.databases, name), join(snapshot, DATABASES_DIR, name));
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
  const spec = {
    jobId: 'job-e2e',
    mode: 'delta',
    plex: { version: '1.43.2.10687-563d026ea' },
    media: { mountPath: mediaPath, remote: served.remote, vfsProfile: 'lite' },
  };
  const agentHome = await startAgentHome({
    tokens: ['bootstrap'],
    job: {
      spec: options.spec ?? { ...spec, ...options.extraSpec?.(dir) },
      secrets: {},
      transfers: { baseUrl: transfers.url, token: 'session-token', restoreId: 'job-e2e-restore', exportId: 'job-e2e-export' },
    },
    claimToken: claim,
  });
  onTestFinished(() => agentHome.close());

  return { dir, bucket, media, mediaPath, transfers, served, tv, claim, agentHome };
}
