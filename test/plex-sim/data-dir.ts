import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { BLOBS_DB_NAME, MAIN_DB_NAME } from '@plexlift/shared/plex-db';
import { REAL_DB_DIR } from '../utils/library-generator.js';

/** Where PMS keeps everything, below the config dir (`/config` in the official image). */
export const PMS_DIR = join('Library', 'Application Support', 'Plex Media Server');

export interface DataDirPaths {
  /** The config dir (the image's `/config`). */
  config: string;
  /** `…/Library/Application Support/Plex Media Server`. */
  pms: string;
  databases: string;
  mainDb: string;
  blobsDb: string;
  metadata: string;
  media: string;
  logs: string;
  log: string;
  preferences: string;
  localAdminToken: string;
  pid: string;
  /** The double's own bookkeeping (objects set aside while running); never exported. */
  simState: string;
}

export function dataDirPaths(config: string): DataDirPaths {
  const pms = join(config, PMS_DIR);
  const databases = join(pms, 'Plug-in Support', 'Databases');
  return {
    config,
    pms,
    databases,
    mainDb: join(databases, MAIN_DB_NAME),
    blobsDb: join(databases, BLOBS_DB_NAME),
    metadata: join(pms, 'Metadata'),
    media: join(pms, 'Media', 'localhost'),
    logs: join(pms, 'Logs'),
    log: join(pms, 'Logs', 'Plex Media Server.log'),
    preferences: join(pms, 'Preferences.xml'),
    localAdminToken: join(pms, '.LocalAdminToken'),
    pid: join(pms, 'plexmediaserver.pid'),
    simState: join(pms, '.plex-sim-state.json'),
  };
}

/**
 * Lays out the data dir as a fresh PMS 1.43.2 does (data-dir-tree.txt of the real data set)
 * and, like PMS on first start, installs the library DBs from its template: here the real
 * 1.43.2 DBs. Returns whether the DB was installed now.
 */
export function prepareDataDir(paths: DataDirPaths): { installedDatabase: boolean } {
  for (const dir of [
    paths.databases,
    paths.logs,
    join(paths.logs, 'PMS Plugin Logs'),
    join(paths.pms, 'Cache'),
    join(paths.pms, 'Codecs'),
    join(paths.pms, 'Crash Reports'),
    join(paths.pms, 'Plug-in Support', 'Caches'),
    join(paths.pms, 'Plug-in Support', 'Data'),
    join(paths.pms, 'Plug-in Support', 'Metadata Combination'),
    join(paths.pms, 'Plug-in Support', 'Preferences'),
    join(paths.pms, 'Plug-ins'),
    paths.metadata,
    paths.media,
  ]) {
    mkdirSync(dir, { recursive: true });
  }
  const deviceId = join(paths.pms, 'Codecs', '.device-id');
  if (!existsSync(deviceId)) writeFileSync(deviceId, randomBytes(16).toString('hex'));
  const setup = join(paths.pms, 'Setup Plex.html');
  if (!existsSync(setup)) writeFileSync(setup, '<html><head><script>window.location="http://localhost:32400/web"</script></head></html>\n');
  // PMS rewrites this token on every start (plex-api.md §1.4).
  writeFileSync(paths.localAdminToken, randomBytes(21).toString('hex'));
  if (existsSync(paths.mainDb)) return { installedDatabase: false };
  copyFileSync(join(REAL_DB_DIR, MAIN_DB_NAME), paths.mainDb);
  if (!existsSync(paths.blobsDb)) copyFileSync(join(REAL_DB_DIR, BLOBS_DB_NAME), paths.blobsDb);
  return { installedDatabase: true };
}
