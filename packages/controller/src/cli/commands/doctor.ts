import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { EXIT_CODES, type Config } from '@plexlift/shared';
import { PlexClient } from '@plexlift/shared/plex-api';
import { closeDatabase, formatBytes, freeBytes, MAIN_DB_NAME, openDatabaseReadOnly, readLibraryStats } from '@plexlift/shared/plex-db';
import { fingerprintOf } from '@plexlift/shared/tls';
import { loadConfig } from '../../config.js';
import { DockerApi } from '@plexlift/shared/docker';
import { VERSION } from '../../version.js';
import { certificatePaths } from '../../server/tls-certificate.js';
import { PlexAccount, readOnlineToken } from '../../plex-account.js';
import { withController } from '../controller-connection.js';
import { createOutput } from '../output.js';
import { runAction } from '../run-action.js';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

const run = promisify(execFile);

/** Each check says what it found, or what to fix; none changes anything. */
async function checks(config: Config, path: string | undefined, command: Command): Promise<Check[]> {
  const results: Check[] = [{ name: 'config', ok: true, detail: path ?? 'no file: defaults (plexlift config set … writes one)' }];
  const attempt = async (name: string, test: () => Promise<string> | string) => {
    try {
      results.push({ name, ok: true, detail: await test() });
    } catch (error) {
      results.push({ name, ok: false, detail: (error as Error).message });
    }
  };
  const home = config.home;
  if (!home) results.push({ name: 'home', ok: false, detail: 'home: missing; set home.plexDataDir and home.control' });
  else {
    await attempt('home library', () => {
      const db = openDatabaseReadOnly(join(home.plexDataDir, 'Plug-in Support', 'Databases', MAIN_DB_NAME), 'home.plexDataDir');
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
    await attempt('plex.tv account', async () => ((await PlexAccount.fromHome(home).hasPlexPass()) ? 'token accepted, Plex Pass active (Sonic possible)' : 'token accepted; no Plex Pass: use --skip-sonic'));
  }
  const media = config.media;
  if (!media) results.push({ name: 'media', ok: false, detail: 'media: missing; set media.mountPath and media.remote' });
  else {
    await attempt('media remote', async () => {
      try {
        const { stdout } = await run('rclone', ['lsf', '--max-depth', '1', media.remote, ...(media.rcloneConfigPath ? ['--config', media.rcloneConfigPath] : [])], { timeout: 60_000 });
        return `${media.remote} lists (${stdout.split('\n').filter(Boolean).length} entries)`;
      } catch (error) {
        const detail = ((error as { stderr?: string }).stderr ?? (error as Error).message).trim().split('\n').at(-1) ?? '';
        throw new Error(`media.remote: rclone cannot list ${media.remote}: ${detail}`, { cause: error });
      }
    });
  }
  await attempt('state folder', () => {
    mkdirSync(config.server.stateDir, { recursive: true });
    accessSync(config.server.stateDir, constants.W_OK);
    const free = freeBytes(config.server.stateDir);
    const db = home ? join(home.plexDataDir, 'Plug-in Support', 'Databases', MAIN_DB_NAME) : undefined;
    const needed = db && existsSync(db) ? statSync(db).size * 3 : 0;
    if (free < needed) throw new Error(`server.stateDir: ${formatBytes(free)} free; a job needs about ${formatBytes(needed)} (snapshot, archive, backup)`);
    return `${config.server.stateDir}, ${formatBytes(free)} free`;
  });
  await attempt('tools', async () => {
    for (const tool of ['rclone', 'zstd', 'tar']) await run(tool, ['--version']).catch(() => Promise.reject(new Error(`${tool} is not installed (apt-get install ${tool})`)));
    return 'rclone, zstd, tar';
  });
  const provider = config.provider;
  if (!provider) results.push({ name: 'provider', ok: false, detail: 'provider: none; plexlift run needs --provider, or set provider' });
  else if (provider === 'local') {
    await attempt('provider local', () => {
      if (!config.providers.local) throw new Error('providers.local: missing; set providers.local.plexCommand');
      if (process.getuid?.() !== 0) throw new Error('the local provider needs root (a private mount namespace for the agent)');
      return `Plex command ${config.providers.local.plexCommand[0] ?? ''}`;
    });
  } else if (provider === 'docker') {
    await attempt('provider docker', async () => {
      const docker = config.providers.docker;
      if (!docker) throw new Error("providers.docker: missing; set it (plexlift config set providers.docker '{}')");
      const api = new DockerApi(docker.socketPath);
      const image = docker.image ?? `plexlift/agent:${VERSION}`;
      const found = await api.call('GET', `/images/${encodeURIComponent(image)}/json`).catch((error: unknown) => {
        throw new Error(`providers.docker.socketPath: ${(error as Error).message}`, { cause: error });
      });
      if (found.status !== 200) throw new Error(`providers.docker.image: ${image} is not on this Docker; build it with scripts/build-agent-image.sh`);
      return `agent image ${image}; Plex from ${docker.plexImage} at the home's version`;
    });
  } else if (provider === 'scaleway') {
    await attempt('provider scaleway', async () => {
      const scaleway = config.providers.scaleway;
      if (!scaleway) throw new Error('providers.scaleway: missing; set at least providers.scaleway.plexCommand (credentials may come from SCW_* variables)');
      if (!scaleway.secretKey && !process.env.SCW_SECRET_KEY) throw new Error('providers.scaleway.secretKey (or SCW_SECRET_KEY): not set');
      if (!scaleway.projectId && !process.env.SCW_DEFAULT_PROJECT_ID) throw new Error('providers.scaleway.projectId (or SCW_DEFAULT_PROJECT_ID): not set');
      const { createScalewayProvider } = await import('../../providers/scaleway/scaleway-provider.js');
      const price = await createScalewayProvider({ config: scaleway }).refreshPrice();
      return `the API answers; ${scaleway.commercialType} in ${scaleway.zone} at ${price} €/h, stopped at ${scaleway.maxHours} h or ${scaleway.maxCost} €`;
    });
    await attempt('public address', () => {
      if (!config.server.publicUrl) throw new Error(`server.publicUrl: not set; a VM must reach this daemon (a forwarded port or a tunnel), not 127.0.0.1:${config.server.port}`);
      return `agents call ${config.server.publicUrl}`;
    });
  }
  await attempt('tls', () => {
    if (!config.server.tls.enabled) {
      if (config.server.publicUrl?.startsWith('https:')) return `off here; agents use ${config.server.publicUrl} (a tunnel's TLS)`;
      throw new Error('server.tls.enabled is false and server.publicUrl is not https://: tokens and the library would cross the internet in clear; enable TLS or put a tunnel in front');
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
    .action(async (options: { json?: boolean }, command: Command) => {
      const output = createOutput({ json: options.json === true });
      await runAction(output, async () => {
        const configPath = command.optsWithGlobals<{ config?: string }>().config;
        const { config, path } = loadConfig({ path: configPath });
        const results = await checks(config, path, command);
        if (output.json) output.printJson(results);
        else output.result(results.map((r) => `${r.ok ? 'ok ' : 'FIX'}  ${r.name}: ${r.detail}`).join('\n'));
        return results.every((r) => r.ok) ? EXIT_CODES.ok : EXIT_CODES.badConfig;
      });
    });
}
