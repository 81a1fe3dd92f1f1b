import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Config } from '@plexlift/shared';
import { PlexClient } from '@plexlift/shared/plex-api';
import { closeDatabase, formatBytes, freeBytes, mainDatabasePath, openDatabaseReadOnly, readLibraryStats } from '@plexlift/shared/plex-db';
import { fingerprintOf } from '@plexlift/shared/tls';
import type { DoctorCheck } from './jobs/job-control.js';
import { listRemote } from './jobs/home-preflight.js';
import { checkProvider, type AttemptCheck } from './providers/registry.js';
import { certificatePaths } from './server/tls-certificate.js';
import { PlexAccount, readOnlineToken } from './plex-account.js';

const run = promisify(execFile);

/** What doctor shows as it goes: each check's line when it ends, and a slow check when it starts. */
export interface DoctorReport {
  onCheck?: (check: DoctorCheck) => void;
  onSlowStart?: (name: string) => void;
  /** Where the config came from, as the first line says it. */
  configSource: string;
  /** Checks of the caller's own after the others (the CLI's: whether the daemon answers). */
  more?: (attempt: AttemptCheck) => Promise<unknown>;
}

/**
 * `plexlift doctor`'s checks, from the CLI or from the daemon (the dashboard's doctor): each says
 * what it found, or what to fix; none changes anything.
 */
export async function runDoctorChecks(config: Config, { onCheck, onSlowStart, configSource, more }: DoctorReport): Promise<DoctorCheck[]> {
  const results: DoctorCheck[] = [];
  // Each line as soon as its check ends: a slow one (a remote, a cloud API) never hides the others.
  const record = (check: DoctorCheck) => {
    results.push(check);
    onCheck?.(check);
  };
  record({ name: 'config', ok: true, detail: configSource });
  const attempt: AttemptCheck = async (name, test, options = {}) => {
    if (options.isSlow) onSlowStart?.(name);
    try {
      record({ name, ok: true, detail: await test() });
      return true;
    } catch (error) {
      record({ name, ok: false, detail: (error as Error).message });
      return false;
    }
  };
  const home = config.home;
  if (!home) record({ name: 'home', ok: false, detail: 'home: missing; set home.plexDataDir and home.control' });
  else {
    await attempt('home library', () => {
      const db = openDatabaseReadOnly(mainDatabasePath(home.plexDataDir), 'home.plexDataDir');
      try {
        const stats = readLibraryStats(db);
        return `${stats.sections.length} sections: ${stats.sections.map((s) => s.title).join(', ')}`;
      } finally {
        closeDatabase(db);
      }
    });
    await attempt('home Plex', async () => {
      const client = new PlexClient({ url: home.plexUrl, token: home.plexToken ?? readOnlineToken(home.plexDataDir) });
      const identity = await client.identity();
      await client.sections();
      return `${home.plexUrl} answers, version ${identity.version}`;
    });
    await attempt('plex.tv account', async () =>
      (await PlexAccount.fromHome(home).hasPlexPass()) ? 'token accepted, Plex Pass active (Sonic possible)' : 'token accepted; no Plex Pass: use --skip-sonic',
    );
  }
  const media = config.media;
  if (!media) record({ name: 'media', ok: false, detail: 'media: missing; set media.mountPath and media.remote' });
  else {
    await attempt('media remote', async () => `${media.remote} lists (${await listRemote(media)} entries)`, { isSlow: true });
  }
  await attempt('state folder', () => {
    mkdirSync(config.server.stateDir, { recursive: true });
    accessSync(config.server.stateDir, constants.W_OK);
    const free = freeBytes(config.server.stateDir);
    const db = home ? mainDatabasePath(home.plexDataDir) : undefined;
    const needed = db && existsSync(db) ? statSync(db).size * 3 : 0;
    if (free < needed) throw new Error(`server.stateDir: ${formatBytes(free)} free; a job needs about ${formatBytes(needed)} (snapshot, archive, backup)`);
    return `${config.server.stateDir}, ${formatBytes(free)} free`;
  });
  await attempt('tools', async () => {
    for (const tool of ['rclone', 'zstd', 'tar'])
      await run(tool, ['--version']).catch(() => Promise.reject(new Error(`${tool} is not installed (apt-get install ${tool})`)));
    return 'rclone, zstd, tar';
  });
  await checkProvider(config, attempt);
  await attempt('tls', () => {
    if (!config.server.tls.enabled) {
      if (config.server.publicUrl?.startsWith('https:')) return `off here; agents use ${config.server.publicUrl} (a tunnel's TLS)`;
      throw new Error(
        'server.tls.enabled is false and server.publicUrl is not https://: tokens and the library would cross the internet in clear; enable TLS or put a tunnel in front',
      );
    }
    const { certPath } = certificatePaths(config);
    if (!existsSync(certPath)) return `a self-signed certificate is made at the first plexlift serve (${certPath})`;
    return `${certPath}, SHA-256 ${fingerprintOf(readFileSync(certPath, 'utf8'))} (agents pin it)`;
  });
  await more?.(attempt);
  return results;
}
