import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PlexliftError, type Config } from '@plexlift/shared';
import { openControllerCore, serveController, withClose, type Controller } from './controller.js';
import { BurstScheduler } from './jobs/burst-scheduler.js';
import { JobRunner } from './jobs/job-runner.js';
import { OrphanReaper } from './jobs/orphan-reaper.js';
import type { Logger } from './logger.js';
import { createNotifier, type Notifier } from './notify/notifier.js';
import { housekeepAtStart, startAgentLogHousekeeping, startDailyHousekeeping, type Housekeeping } from './housekeeping.js';
import { agentWorkRoots, createProviders } from './providers/registry.js';
import { ensureCertificate } from './server/tls-certificate.js';
import { once } from './once.js';
import { ScheduleStore } from './store/schedule-store.js';
import { runDoctorChecks } from './doctor-checks.js';
import { HomeGuard } from './install/home-guard.js';
import { backupViews, chooseBackup, rollbackHome } from './install/home-rollback.js';
import { describeInstallStep } from './install/install-step-text.js';

export interface Daemon extends AsyncDisposable {
  controller: Controller;
  runner: JobRunner;
  /** Takes a new config (SIGHUP); the port and the state folder need a restart. */
  reload(config: Config): void;
  /** `http(s)://127.0.0.1:port`, where the CLI reaches it. */
  url: string;
  /** The certificate's SHA-256 fingerprint (agents pin it); undefined when TLS is off. */
  fingerprint: string | undefined;
  /** Stops in order (reaper, jobs, server, store); the same promise for every caller. */
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

/**
 * The daemon (`plexlift serve`), wired in one direction: the store and data plane, the
 * providers, the job runner and the reaper, then the server that forwards to them, and last the
 * jobs a stopped daemon left under way.
 */
export async function startDaemon(config: Config, options: { logger: Logger; port?: number; configPath?: string | undefined }): Promise<Daemon> {
  const { logger } = options;
  const { token } = ensureAdminToken(config);
  const certificate = config.server.tls.enabled ? await ensureCertificate(config) : undefined;
  if (certificate) {
    if (config.server.publicUrl && !config.server.publicUrl.startsWith('https:')) {
      throw new PlexliftError(
        'CONFIG_INVALID',
        `server.publicUrl: ${config.server.publicUrl} must start with https:// while server.tls.enabled is true (agents talk TLS to this port)`,
      );
    }
    logger.info(
      `${certificate.created ? 'made a self-signed TLS certificate' : 'TLS certificate'} ${certificate.certPath}, SHA-256 fingerprint ${certificate.fingerprint}`,
    );
  }
  const scheme = certificate ? 'https' : 'http';

  // What start-up opened, closed in reverse if a later step fails: no half-started daemon keeps
  // the port (answering /healthz) or the store open; the error reaches `serve`, which exits non-zero.
  const opened: (() => Promise<void> | void)[] = [];
  const closeOpened = async () => {
    for (const close of opened.reverse()) {
      try {
        await close();
      } catch (error) {
        logger.warn(`while stopping after a failed start: ${(error as Error).message}`);
      }
    }
  };
  try {
    const core = openControllerCore({ stateDir: config.server.stateDir }); // checks the store: a damaged one is DATABASE_CORRUPT
    opened.push(() => void core.db.close());
    // Old jobs are pruned before anything serves them (a failure here is a start-up failure).
    const house: Housekeeping = {
      core,
      keepJobsDays: config.server.keepJobsDays,
      agentLogs: { ...config.server.agentLogs, workRoots: agentWorkRoots(config) },
      logger,
    };
    housekeepAtStart(house);

    const notifier = createNotifier(config.notify, logger.child('notify'));
    opened.push(() => notifier.idle());
    const providers = await createProviders(config);
    // Agents call the public address; without one (local providers), the port this daemon gets.
    let url = config.server.publicUrl;
    const runner = new JobRunner({
      config,
      ...core,
      providers,
      controllerUrl: () => url!,
      controllerTls: certificate ? { fingerprint: certificate.fingerprint, publicKeyPin: certificate.publicKeyPin } : undefined,
      logger,
      notifier,
    });
    opened.push(() => runner.close());
    const reaper = new OrphanReaper({ providers, jobs: core.jobs, logger: logger.child('reaper'), notifier });
    opened.push(() => reaper.stop());
    // Scheduled bursts (`schedule`): started once the jobs a stopped daemon left are taken up.
    // One change of home at a time from the API and the schedule: a rollback, and no job started or installed meanwhile.
    const home = new HomeGuard(config.server.stateDir);
    const scheduler = new BurstScheduler({
      config,
      jobs: core.jobs,
      store: new ScheduleStore(core.db),
      run: (request) => home.whileIdle('start a job', () => runner.run(request)),
      isComplete: () => runner.progress().complete,
      logger,
    });
    opened.push(() => scheduler.stop());
    const server = await serveController(core, {
      stateDir: config.server.stateDir,
      adminToken: token,
      port: options.port ?? config.server.port,
      host: config.server.host,
      dashboardOrigins: [config.server.publicUrl, ...config.server.dashboard.origins],
      ...(certificate ? { tls: { cert: certificate.cert, key: certificate.key } } : {}),
      control: {
        run: (request) => home.whileIdle('start a job', () => runner.run(request)),
        plan: (request) => runner.plan(request),
        install: (jobId, request) => home.whileIdle('install', () => runner.install(jobId, request)),
        abort: (jobId, reason) => runner.abort(jobId, reason),
        land: (jobId, reason) => runner.land(jobId, reason),
        meter: (jobId) => runner.meter(jobId),
        progress: () => runner.progress(),
        schedule: () => scheduler.view(),
        holdings: () => reaper.holdings(),
        reap: (dryRun) => reaper.pass({ dryRun }),
        backups: () => backupViews(runner.config),
        rollback: (name) =>
          home.exclusively('roll back', () => {
            const backup = chooseBackup(runner.config, name, 'backup');
            logger.info(`rollback asked through the API: putting back ${backup.dir} (made before job ${backup.manifest.jobId})`);
            return rollbackHome(runner.config, backup, (step, detail) => logger.info(`rollback: ${describeInstallStep(step, detail)}`)).catch(
              (error: unknown) => {
                logger.error(`rollback of ${backup.dir} failed: ${(error as Error).message}`);
                throw error;
              },
            );
          }),
        doctor: () => runDoctorChecks(runner.config, { configSource: `${options.configPath ?? 'no file: defaults'}, as the daemon loaded it` }),
      },
      agent: {
        agentJob: (jobId) => runner.agentJob(jobId),
        agentClaim: (jobId) => runner.agentClaim(jobId),
        onConnect: (jobId) => runner.onConnect(jobId),
      },
      onRefused: (where, reason) => logger.warn(`refused a ${where} connection: ${reason}`),
    });
    opened.push(() => server.close());
    const controller = withClose(core, server);
    url ??= `${scheme}://127.0.0.1:${server.port}`;

    // A restart loses nothing: every job that was under way is taken up where it stood.
    for (const job of runner.resume()) logger.info(`resuming job ${job.id} (${job.state}${job.phase ? `, ${job.phase}` : ''})`);
    // What no live job owns is deleted in two passes: one now (after the resumed jobs took theirs), then periodically.
    reaper.start((config.providers.scaleway?.reaperIntervalMinutes ?? 10) * 60_000);
    scheduler.start();
    // Job history is kept for server.keepJobsDays, checked daily (with the transfer folders); the agents' logs every minute.
    const pruning = [startDailyHousekeeping(house), startAgentLogHousekeeping(house)];
    opened.push(() => pruning.forEach((timer) => clearInterval(timer)));
    return daemonOf({
      config,
      logger,
      notifier,
      controller,
      runner,
      reaper,
      scheduler,
      home,
      house,
      pruning,
      url: `${scheme}://127.0.0.1:${server.port}`,
      fingerprint: certificate?.fingerprint,
    });
  } catch (error) {
    await closeOpened();
    throw error;
  }
}

function daemonOf(parts: {
  config: Config;
  logger: Logger;
  notifier: Notifier;
  controller: Controller;
  runner: JobRunner;
  reaper: OrphanReaper;
  scheduler: BurstScheduler;
  home: HomeGuard;
  house: Housekeeping;
  pruning: NodeJS.Timeout[];
  url: string;
  fingerprint: string | undefined;
}): Daemon {
  const { config, logger, notifier, controller, runner, reaper, scheduler, home, house, pruning } = parts;
  const close = once(async () => {
    pruning.forEach((timer) => clearInterval(timer));
    await scheduler.stop();
    // A rollback under way ends first (home Plex started again), within the stop's deadline.
    await home.stop();
    await reaper.stop();
    await runner.close();
    await controller.close();
    await notifier.idle();
  });
  const reload = (next: Config) => {
    if (next.server.port !== config.server.port || next.server.stateDir !== config.server.stateDir) {
      logger.warn('server.port and server.stateDir change on the next restart only');
    }
    if (next.server.publicUrl !== config.server.publicUrl || JSON.stringify(next.server.dashboard) !== JSON.stringify(config.server.dashboard)) {
      logger.warn("server.publicUrl and server.dashboard change the dashboard's addresses on the next restart only");
    }
    runner.updateConfig(next);
    scheduler.updateConfig(next);
    notifier.setConfig(next.notify);
    // The next minute's look at the agents' logs goes by the new limits (a docker agent's rotation size is its container's).
    house.agentLogs = { ...next.server.agentLogs, workRoots: agentWorkRoots(next) };
    logger.info('config reloaded');
  };
  return {
    controller,
    runner,
    url: parts.url,
    fingerprint: parts.fingerprint,
    reload,
    close,
    [Symbol.asyncDispose]: close,
  };
}
