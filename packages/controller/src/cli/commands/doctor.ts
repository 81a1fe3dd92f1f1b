import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { EXIT_CODES, exitStatusOf, type Config } from '@plexlift/shared';
import { PlexClient } from '@plexlift/shared/plex-api';
import { closeDatabase, formatBytes, freeBytes, mainDatabasePath, openDatabaseReadOnly, readLibraryStats } from '@plexlift/shared/plex-db';
import { fingerprintOf } from '@plexlift/shared/tls';
import { loadConfig } from '../../config.js';
import { listRemote } from '../../jobs/home-preflight.js';
import { checkProvider, type AttemptCheck } from '../../providers/registry.js';
import { certificatePaths } from '../../server/tls-certificate.js';
import { PlexAccount, readOnlineToken } from '../../plex-account.js';
import { withController } from '../controller-connection.js';
import { createCommandAction } from '../command-action.js';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

const run = promisify(execFile);

/** What doctor shows as it goes: each check's line when it ends, and a slow check when it starts. */
interface CheckReport {
  onCheck: (check: Check) => void;
  onSlowStart: (name: string) => void;
}

/** Each check says what it found, or what to fix; none changes anything. */
async function checks(config: Config, path: string | undefined, command: Command, { onCheck, onSlowStart }: CheckReport): Promise<Check[]> {
  const results: Check[] = [];
  // Each line as soon as its check ends: a slow one (a remote, a cloud API) never hides the others.
  const record = (check: Check) => {
    results.push(check);
    onCheck(check);
  };
  record({ name: 'config', ok: true, detail: path ?? 'no file: defaults (plexlift config set … writes one)' });
  const attempt: AttemptCheck = async (name, test, options = {}) => {
    if (options.isSlow) onSlowStart(name);
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
  await attempt('daemon', async () => {
    try {
      const jobs = await withController(command, (client) => client.jobs.list.query({ limit: 1 }));
      return `answers with the admin token; ${jobs.length === 0 ? 'no jobs yet' : `last job ${jobs[0]!.id} (${jobs[0]!.state})`}`;
    } catch (error) {
      throw new Error(`not reachable on port ${config.server.port} (${(error as Error).message}); start it with plexlift serve`, { cause: error });
    }
  });
  return results;
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the config, the home Plex, plex.tv, the media remote, disk space and the daemon: each line ok, or what to fix')
    .option('--json', 'print JSON')
    .action(
      createCommandAction<{ json?: boolean }>(async ({ output, command }) => {
        const configPath = command.optsWithGlobals<{ config?: string }>().config;
        const { config, path } = loadConfig({ path: configPath });
        // On a terminal the notice of a slow check stands until its line replaces it.
        let isNoticeShown = false;
        const results = await checks(config, path, command, {
          onSlowStart: (name) => {
            if (output.json) return;
            if (!process.stderr.isTTY) return output.info(`checking ${name}…`);
            process.stderr.write(`checking ${name}…`);
            isNoticeShown = true;
          },
          onCheck: (r) => {
            if (isNoticeShown) process.stderr.write('\r\x1b[K');
            isNoticeShown = false;
            if (!output.json) output.result(`${r.ok ? 'ok ' : 'FIX'}  ${r.name}: ${r.detail}`);
          },
        });
        if (output.json) output.printJson(results);
        const failed = results.filter((r) => !r.ok);
        if (failed.length === 0) return EXIT_CODES.ok;
        // The table's status: 8 when only the daemon is down, 78 when the set-up needs fixing.
        return exitStatusOf(failed.every((r) => r.name === 'daemon') ? 'CONTROLLER_UNREACHABLE' : 'CONFIG_INVALID');
      }),
    );
}
