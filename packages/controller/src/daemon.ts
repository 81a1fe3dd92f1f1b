import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PlexliftError, type Config } from '@plexlift/shared';
import { startController, type Controller } from './controller.js';
import { JobRunner } from './jobs/job-runner.js';
import { OrphanReaper } from './jobs/orphan-reaper.js';
import { createDockerProvider } from './providers/docker-provider.js';
import { createLocalProvider } from './providers/local-provider.js';
import { ensureCertificate } from './server/tls-certificate.js';
import type { Provider } from './providers/provider.js';

export interface Daemon extends AsyncDisposable {
  controller: Controller;
  runner: JobRunner;
  /** Takes a new config (SIGHUP); the port and the state folder need a restart. */
  reload(config: Config): void;
  /** `http(s)://127.0.0.1:port`, where the CLI reaches it. */
  url: string;
  /** The certificate's SHA-256 fingerprint (agents pin it); undefined when TLS is off. */
  fingerprint: string | undefined;
  close(): Promise<void>;
}

/** The admin token: from its file, created (0600) on first start. */
export function ensureAdminToken(config: Config): { token: string; path: string } {
  const path = adminTokenPath(config);
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, `plx_a_${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  }
  return { token: readFileSync(path, 'utf8').trim(), path };
}

export function adminTokenPath(config: Config): string {
  return config.server.adminTokenFile ?? join(config.server.stateDir, 'admin-token');
}

/** The daemon (`plexlift serve`): controller, job runner and providers, wired from the config. */
export async function startDaemon(config: Config, options: { log: (level: 'info' | 'warn' | 'error', message: string) => void; port?: number }): Promise<Daemon> {
  const { token } = ensureAdminToken(config);
  const certificate = config.server.tls.enabled ? await ensureCertificate(config) : undefined;
  if (certificate) {
    if (config.server.publicUrl && !config.server.publicUrl.startsWith('https:')) {
      throw new PlexliftError('CONFIG_INVALID', `server.publicUrl: ${config.server.publicUrl} must start with https:// while server.tls.enabled is true (agents talk TLS to this port)`);
    }
    options.log('info', `${certificate.created ? 'made a self-signed TLS certificate' : 'TLS certificate'} ${certificate.certPath}, SHA-256 fingerprint ${certificate.fingerprint}`);
  }
  const scheme = certificate ? 'https' : 'http';
  const providers: Partial<Record<Provider['name'], Provider>> = {};
  const local = config.providers.local;
  if (local) providers.local = createLocalProvider({ workRoot: local.workDir ?? join(config.server.stateDir, 'agents'), plexCommand: local.plexCommand, tuningFile: local.tuningFile });
  if (config.providers.docker) providers.docker = createDockerProvider({ config: config.providers.docker, workRoot: config.providers.docker.workDir ?? join(config.server.stateDir, 'agents') });
  if (config.providers.scaleway) {
    // Loaded only when configured: the SDK and the cloud-init writer weigh on an idle daemon.
    const { createScalewayProvider } = await import('./providers/scaleway/scaleway-provider.js');
    providers.scaleway = createScalewayProvider({ config: config.providers.scaleway });
  }
  // The runner needs the controller and the controller calls the runner: wired once both exist.
  const wired: { runner?: JobRunner; reaper?: OrphanReaper } = {};
  const ready = () => {
    if (!wired.runner) throw new PlexliftError('UNEXPECTED', 'the controller is still starting');
    return wired.runner;
  };
  let url = config.server.publicUrl;
  const controller = await startController({
    stateDir: config.server.stateDir,
    adminToken: token,
    port: options.port ?? config.server.port,
    host: config.server.host,
    ...(certificate ? { tls: { cert: certificate.cert, key: certificate.key } } : {}),
    agentJob: (jobId) => ready().agentJob(jobId),
    onHello: (jobId) => ready().onHello(jobId),
    onConnect: (jobId) => ready().onHello(jobId),
    onVerified: (transfer) => ready().onVerified(transfer),
    onRefused: (where, reason) => options.log('warn', `refused a ${where} connection: ${reason}`),
    control: {
      run: (request) => ready().run(request),
      plan: (request) => ready().plan(request),
      install: (jobId) => ready().install(jobId),
      abort: (jobId, reason) => ready().abort(jobId, reason),
      holdings: () => wired.reaper!.holdings(),
      reap: (dryRun) => wired.reaper!.pass({ dryRun }),
    },
    // The runner exists before the port opens: an agent of a resumed job may call at once.
    beforeListen: (core) => {
      wired.runner = new JobRunner({ config, controller: core, providers, controllerUrl: () => url!, controllerTls: certificate ? { fingerprint: certificate.fingerprint, publicKeyPin: certificate.publicKeyPin } : undefined, log: options.log });
      wired.reaper = new OrphanReaper({ providers, jobs: core.jobs, log: options.log });
    },
  });
  url ??= `${scheme}://127.0.0.1:${controller.server.port}`;
  const runner = ready();
  const reaper = wired.reaper!;
  const pruned = controller.jobs.prune(config.server.keepJobsDays * 86_400_000);
  if (pruned > 0) options.log('info', `forgot ${pruned} finished jobs older than ${config.server.keepJobsDays} days`);
  // A restart loses nothing: every job that was under way is taken up where it stood.
  for (const job of runner.resume()) options.log('info', `resuming job ${job.id} (${job.state}${job.phase ? `, ${job.phase}` : ''})`);
  // What no live job owns is deleted in two passes: one now (after the resumed jobs took theirs), then periodically.
  reaper.start((config.providers.scaleway?.reaperIntervalMinutes ?? 10) * 60_000);
  // Job history is kept for server.keepJobsDays, checked daily.
  const pruning = setInterval(() => controller.jobs.prune(config.server.keepJobsDays * 86_400_000), 86_400_000).unref();
  const close = async () => {
    clearInterval(pruning);
    reaper.stop();
    await runner.close();
    await controller.close();
  };
  const reload = (next: Config) => {
    if (next.server.port !== config.server.port || next.server.stateDir !== config.server.stateDir) {
      options.log('warn', 'server.port and server.stateDir change on the next restart only');
    }
    runner.updateConfig(next);
    options.log('info', 'config reloaded');
  };
  return { controller, runner, url: `${scheme}://127.0.0.1:${controller.server.port}`, fingerprint: certificate?.fingerprint, reload, close, [Symbol.asyncDispose]: close };
}
