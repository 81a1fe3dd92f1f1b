import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createPlexArchive } from '@plexlift/shared/archive';
import { backupDatabase, BLOBS_DB_NAME, MAIN_DB_NAME } from '@plexlift/shared/plex-db';
import { dataDirPaths } from '../plex-sim/data-dir.js';
import { startTestSim } from '../plex-sim/sim-fixture.js';
import type { HomePlex } from './home-plex.js';
import { createTempDir } from './temp-dir.js';

/**
 * What a cloud run brings back: home's library (a consistent copy taken while home runs) after
 * a scan that found `newFilms` more films, with a preview file for one of them, archived.
 */
export async function cloudResult(home: Pick<HomePlex, 'paths' | 'media'>, newFilms: number): Promise<string> {
  const dir = createTempDir('cloud-');
  const cloud = dataDirPaths(join(dir, 'config'));
  mkdirSync(cloud.databases, { recursive: true });
  for (const name of [MAIN_DB_NAME, BLOBS_DB_NAME]) await backupDatabase(join(home.paths.databases, name), join(cloud.databases, name));
  for (let i = 1; i <= newFilms; i++) {
    const folder = join(home.media.roots.movies, `New Film ${i} (2026)`);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `New Film ${i} (2026).mkv`), Buffer.alloc(8192, i));
  }
  const sim = await startTestSim({ dataDir: cloud.config });
  await sim.sim.ready;
  await sim.api('/library/sections/1/refresh');
  await sim.sim.jobs.idle();
  await sim.sim.stop();
  mkdirSync(join(cloud.media, 'a', 'bcdef.bundle', 'Contents', 'Indexes'), { recursive: true });
  writeFileSync(join(cloud.media, 'a', 'bcdef.bundle', 'Contents', 'Indexes', 'index-sd.bif'), 'bif');
  const archive = createPlexArchive(cloud.pms);
  const file = join(dir, 'result.tar.zst');
  await Promise.all([pipeline(archive.stream, createWriteStream(file)), archive.finished]);
  return file;
}
