import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ERROR_CODES, PlexliftError, toPlexliftError, type Config, type ErrorCode } from '@plexlift/shared';
import { PlexClient, resolveAnalyses, analysesFromPreferences, readPreferencesFile } from '@plexlift/shared/plex-api';
import { formatBytes, freeBytes, MAIN_DB_NAME, type LibraryStats } from '@plexlift/shared/plex-db';
import { parseJobSpec, type AgentEvent, type AgentJob, type JobSpec, type PhaseName } from '@plexlift/shared/protocol';
import type { Controller } from '../controller.js';
import { installArchive } from '../install/home-install.js';
import { createPlexControl } from '../install/plex-control.js';
import { PlexAccount, readOnlineToken } from '../plex-account.js';
import type { ControllerTls, Provider, ProviderResource } from '../providers/provider.js';
import type { JobControl, RunRequestSchema } from '../server/admin-router.js';
import type { z } from 'zod';
import type { JobRecord } from '../store/job-store.js';
import { createHomeSnapshot } from '../transfers/home-snapshot.js';
import type { TransferRecord } from '../transfers/transfer-store.js';
import { homeLibraries, readHomeStats, sonicOf, watchedItems } from './home-library.js';
import { buildJobReport } from './job-report.js';

/** What `--dry-run` shows. */
export interface JobPlan {
  spec: JobSpec;
  provider: Provider['name'];
  hourlyPrice: number;
  caps?: Provider['caps'];
  checks: { name: string; ok: boolean; detail: string }[];
}

/** What a job costs per hour and where the controller stops it. */
export interface CostEstimate {
  hourlyPrice: number;
  caps?: Provider['caps'];
}

/** What `plexlift run` asks for (DESIGN.md, "A job"), defaults filled. */
export type RunRequest = z.output<typeof RunRequestSchema>;

export interface JobRunnerOptions {
  config: Config;
  controller: Controller;
  providers: Partial<Record<Provider['name'], Provider>>;
  /** How agents reach this controller (known once its port is open). */
  controllerUrl: () => string;
  /** The certificate agents pin (the daemon's own TLS); absent when TLS is off. */
  controllerTls?: ControllerTls | undefined;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

interface Live {
  abort: AbortController;
  done: Promise<void>;
  hello?: () => void;
  verified?: (transfer: TransferRecord) => void;
}

/**
 * Runs jobs from `plexlift run` to the report: provision (the machine recorded before it
 * exists), follow the agent's phases, teardown as soon as the archive is verified at home (so
 * billing stops before the install), install, report. Any failure or abort tears down first.
 */
export class JobRunner implements JobControl {
  private readonly live = new Map<string, Live>();
  /** Set by close(): live jobs are left to a restarted controller, not failed. */
  private stopping = false;
  /** Data-plane tokens live in memory only; the store keeps their hashes. */
  private readonly transferTokens = new Map<string, string>();

  constructor(private options: JobRunnerOptions) {}

  /** A new config (SIGHUP): jobs started from now on use it; jobs under way keep theirs. */
  updateConfig(config: Config): void {
    this.options = { ...this.options, config };
  }

  /** Checks everything a job needs, records it and starts it; resolves once it is under way, with its cost estimate. */
  async run(request: RunRequest): Promise<JobRecord & { estimate: CostEstimate }> {
    const prepared = await this.prepare(request);
    const hourlyPrice = (await prepared.provider.refreshPrice?.()) ?? prepared.provider.hourlyPrice;
    const job = this.options.controller.jobs.create({
      id: prepared.spec.jobId,
      library: prepared.library,
      provider: prepared.provider.name,
      spec: prepared.spec,
      options: { keep: request.keep, noInstall: request.noInstall },
    });
    this.drive(job, prepared.provider);
    return { ...job, estimate: { hourlyPrice, ...(prepared.provider.caps ? { caps: prepared.provider.caps } : {}) } };
  }

  /** `--dry-run`: the plan, the cost estimate and the checks, and nothing started. */
  async plan(request: RunRequest): Promise<JobPlan> {
    const prepared = await this.prepare(request);
    const { config } = this.options;
    const db = join(config.home!.plexDataDir, 'Plug-in Support', 'Databases', MAIN_DB_NAME);
    const needed = existsSync(db) ? statSync(db).size * 3 : 0;
    const free = freeBytes(config.server.stateDir);
    return {
      spec: prepared.spec,
      provider: prepared.provider.name,
      hourlyPrice: (await prepared.provider.refreshPrice?.()) ?? prepared.provider.hourlyPrice,
      ...(prepared.provider.caps ? { caps: prepared.provider.caps } : {}),
      checks: [
        { name: 'home Plex', ok: true, detail: `answers, version ${prepared.spec.plex.version} (the cloud Plex is pinned to it)` },
        { name: 'Plex Pass', ok: true, detail: prepared.spec.skipSonic ? 'not needed (no Sonic)' : 'active: Sonic will run' },
        { name: 'disk space', ok: free >= needed, detail: `${formatBytes(free)} free in ${config.server.stateDir}; a job needs about ${formatBytes(needed)}` },
        { name: 'one job per library', ok: !this.options.controller.jobs.live().some((j) => j.library === prepared.library), detail: 'no other job is running on this library' },
      ],
    };
  }

  /** Everything `run` and `plan` check before a job exists; the spec they would run. */
  private async prepare(request: RunRequest): Promise<{ spec: JobSpec; provider: Provider; library: string }> {
    const { config } = this.options;
    const home = config.home;
    const media = config.media;
    if (!home) throw new PlexliftError('CONFIG_INVALID', 'home: missing; set home.plexDataDir and home.control (plexlift init writes them)');
    if (!media) throw new PlexliftError('CONFIG_INVALID', 'media: missing; set media.mountPath and media.remote (plexlift init writes them)');
    const providerName = request.provider ?? config.provider;
    if (!providerName) throw new PlexliftError('BAD_ARGUMENT', '--provider: no provider given and none in the config (provider); plexlift never picks a cloud by itself');
    const provider = this.options.providers[providerName];
    if (!provider) throw new PlexliftError('CONFIG_INVALID', `providers.${providerName}: not configured`);
    // A cloud machine calls home: it needs an address it can reach, said on purpose.
    if (provider.caps && !config.server.publicUrl) {
      throw new PlexliftError('CONFIG_INVALID', `server.publicUrl: not set; a ${providerName} VM must reach this daemon (a forwarded port such as https://HOME:${config.server.port}, or a tunnel's address)`);
    }

    const plex = new PlexClient({ url: home.plexUrl, token: home.plexToken ?? readOnlineToken(home.plexDataDir) });
    const identity = await plex.identity().catch((error: unknown) => {
      throw new PlexliftError('PLEX_API_ERROR', `home.plexUrl: the home Plex at ${home.plexUrl} does not answer /identity (${(error as Error).message})`);
    });
    const analyses = resolveAnalyses(analysesFromPreferences(readPreferencesFile(home.plexDataDir)));
    const wantsSonic = !request.skipSonic && !request.skipAnalysis && analyses.sonic;
    if (request.mode === 'scan' && !request.yes) {
      const watched = watchedItems(home.plexDataDir);
      if (watched > 0) {
        throw new PlexliftError('SAFETY_STOP', `a scan job builds a new library: every id changes and the watch history of ${watched} items would not carry over; use a delta job, or pass --yes to do it anyway`);
      }
    }
    if (wantsSonic && !(await PlexAccount.fromHome(home).hasPlexPass())) {
      throw new PlexliftError('SAFETY_STOP', "Sonic analysis needs Plex Pass and the owner's account has none; run again with --skip-sonic");
    }
    const jobId = `job-${new Date().toISOString().slice(0, 10)}-${randomBytes(3).toString('hex')}`;
    const spec = parseJobSpec({
      jobId,
      mode: request.mode,
      sections: request.sections,
      libraries: request.mode === 'scan' ? homeLibraries(home.plexDataDir) : [],
      forceRefresh: request.forceRefresh,
      skipAnalysis: request.skipAnalysis,
      skipSonic: !wantsSonic,
      allowDeletions: request.allowDeletions,
      plex: { version: identity.version },
      media: { mountPath: media.mountPath, remote: media.remote, vfsProfile: media.vfsProfile },
      mappings: media.mappings,
      analyses,
    });
    return { spec, provider, library: home.plexDataDir };
  }

  /** What the agent gets: its spec, a claim token minted now, the storage config, its data plane. */
  async agentJob(jobId: string): Promise<AgentJob> {
    const { config, controller } = this.options;
    const job = controller.jobs.get(jobId);
    if (!job) throw new PlexliftError('BAD_ARGUMENT', `no job ${jobId}`);
    let token = this.transferTokens.get(jobId);
    if (!token) {
      token = controller.tokens.issue(jobId, 'transfer');
      this.transferTokens.set(jobId, token);
    }
    const claimToken = config.home ? await PlexAccount.fromHome(config.home).mintClaimToken() : undefined;
    const rcloneConfig = config.media?.rcloneConfigPath ? readFileSync(config.media.rcloneConfigPath, 'utf8') : undefined;
    return {
      spec: job.spec,
      secrets: { ...(claimToken ? { claimToken } : {}), ...(rcloneConfig ? { rcloneConfig } : {}) },
      transfers: { baseUrl: this.options.controllerUrl(), token, ...(job.spec.mode === 'delta' ? { restoreId: `${jobId}-restore` } : {}), exportId: `${jobId}-export` },
    };
  }

  /** `plexlift install JOB`: the verified archive of a `--no-install` job goes in now. */
  async install(jobId: string): Promise<JobRecord> {
    const { jobs, transferStore } = this.options.controller;
    const job = jobs.get(jobId);
    const transfer = transferStore.get(`${jobId}-export`);
    if (job?.state !== 'verified' || transfer?.state !== 'verified') {
      throw new PlexliftError('BAD_ARGUMENT', `job ${jobId} has no verified archive waiting to be installed (it is ${job?.state ?? 'unknown'})`);
    }
    try {
      await this.installJob(job, transfer, this.options.providers[job.provider as Provider['name']]?.hourlyPrice ?? 0);
    } catch (error) {
      const failure = toPlexliftError(error);
      this.event(jobId, { type: 'phase:fail', phase: 'install', code: failure.code, message: failure.message });
      const current = jobs.get(jobId)!;
      jobs.transition(current, current.state, 'failed', { error: { code: failure.code, message: failure.message } });
      throw failure;
    }
    return jobs.get(jobId)!;
  }

  /** The install phase and the report; the job ends `done`. */
  private async installJob(ready: JobRecord, transfer: TransferRecord, hourlyPrice: number): Promise<void> {
    const { controller, config } = this.options;
    const home = config.home!;
    const resume = ready.state === 'installing';
    const job = resume ? ready : this.move(ready, 'verified', 'installing');
    this.event(job.id, { type: 'phase:start', phase: 'install' });
    const result = await installArchive({
      archive: controller.transfers.read(transfer.id),
      jobId: job.id,
      pmsDir: home.plexDataDir,
      stagingDir: join(config.server.stateDir, 'install', job.id),
      backupsDir: home.backups.dir ?? join(config.server.stateDir, 'backups'),
      keepBackups: home.backups.keep,
      control: createPlexControl(home.control),
      plex: { url: home.plexUrl, token: home.plexToken ?? readOnlineToken(home.plexDataDir) },
      owner: home.owner,
      startTimeoutMs: home.startTimeoutSeconds * 1000,
      onStep: (step, detail) => this.event(job.id, { type: 'phase:progress', phase: 'install', message: detail ? `${step}: ${detail}` : step }),
      resume,
    });
    this.event(job.id, { type: 'phase:complete', phase: 'install', summary: { backup: result.backup.dir, files: result.files } });
    controller.transfers.discard(transfer.id);
    const report = buildJobReport({ jobId: job.id, jobs: controller.jobs, transfers: controller.transferStore, before: beforeOf(job), after: result.stats, sonic: sonicOf(home.plexDataDir), hourlyPrice });
    this.move(job, 'installing', 'done', { report });
  }

  onHello(jobId: string): void {
    this.live.get(jobId)?.hello?.();
  }

  onVerified(transfer: TransferRecord): void {
    if (transfer.direction === 'export') this.live.get(transfer.jobId)?.verified?.(transfer);
  }

  async abort(jobId: string, reason: string): Promise<void> {
    const { jobs, bus } = this.options.controller;
    jobs.pushCommand(jobId, { type: 'abort', jobId, reason });
    bus.commandQueued(jobId);
    const live = this.live.get(jobId);
    live?.abort.abort(new PlexliftError('JOB_ABORTED', `aborted: ${reason}`));
    await live?.done;
  }

  /** Stops following jobs (the daemon is stopping); their agents keep working. */
  async close(): Promise<void> {
    this.stopping = true;
    for (const live of this.live.values()) live.abort.abort(new PlexliftError('UNEXPECTED', 'the controller is stopping'));
    await Promise.all([...this.live.values()].map((l) => l.done));
  }

  /** Resolves when every job this runner drives has ended. */
  async idle(): Promise<void> {
    await Promise.all([...this.live.values()].map((l) => l.done));
  }

  /**
   * Takes up every job a stopped controller left under way, each from the state it was in:
   * an agent still there is followed again, a machine gone is provisioned again or torn down,
   * an install cut short is finished exactly once. Returns the jobs taken up.
   */
  resume(): JobRecord[] {
    const { jobs } = this.options.controller;
    const taken: JobRecord[] = [];
    for (const job of jobs.live()) {
      const provider = this.options.providers[job.provider as Provider['name']];
      if (!provider) {
        jobs.transition(job, job.state, 'failed', { error: { code: 'CONFIG_INVALID', message: `providers.${job.provider}: no longer configured, so the job cannot go on; check plexlift vms for its machine` } });
        continue;
      }
      this.drive(job, provider);
      taken.push(job);
    }
    return taken;
  }

  private drive(job: JobRecord, provider: Provider): void {
    const live: Live = { abort: new AbortController(), done: Promise.resolve() };
    this.live.set(job.id, live);
    const watch = this.watchCaps(job, provider, live);
    live.done = this.execute(job, provider, live)
      .catch((error: unknown) => this.options.log('error', `job ${job.id}: ${(error as Error).message}`))
      .finally(() => {
        clearInterval(watch);
        this.live.delete(job.id);
      });
  }

  /**
   * The provider's caps (lifetime, cost), enforced here whatever the agent does: past either, the
   * job stops as a safety stop, which tears its machine down. Billing runs from provisioning to
   * the teardown, so the watch ends once the archive is verified (the machine is gone then).
   */
  private watchCaps(job: JobRecord, provider: Provider, live: Live): NodeJS.Timeout | undefined {
    const caps = provider.caps;
    if (!caps) return undefined;
    const check = () => {
      const current = this.options.controller.jobs.get(job.id);
      if (!current || !['queued', 'provisioning', 'running'].includes(current.state)) return;
      const hours = (Date.now() - current.createdAt) / 3_600_000;
      const price = typeof current.resource?.hourlyPrice === 'number' ? current.resource.hourlyPrice : provider.hourlyPrice;
      const cost = hours * price;
      const over = hours >= caps.maxHours ? `its lifetime cap of ${caps.maxHours} h` : cost >= caps.maxCost ? `its cost cap of ${caps.maxCost} € (${cost.toFixed(2)} € at ${price} €/h)` : undefined;
      if (!over || live.abort.signal.aborted) return;
      const reason = `the job reached ${over}; its machine is deleted (providers.${provider.name}.maxHours / maxCost)`;
      this.options.controller.jobs.pushCommand(job.id, { type: 'abort', jobId: job.id, reason });
      this.options.controller.bus.commandQueued(job.id);
      live.abort.abort(new PlexliftError('SAFETY_STOP', reason));
    };
    const capMs = Math.min(caps.maxHours * 3_600_000, provider.hourlyPrice > 0 ? (caps.maxCost / provider.hourlyPrice) * 3_600_000 : Infinity);
    return setInterval(check, Math.max(250, Math.min(60_000, capMs / 20))).unref();
  }

  /** Runs a job from whatever state it is in to its end; every step is safe to take up again. */
  private async execute(initial: JobRecord, provider: Provider, live: Live): Promise<void> {
    const { controller, config } = this.options;
    const { jobs, tokens, transfers, transferStore } = controller;
    const home = config.home!;
    const signal = live.abort.signal;
    let job = initial;
    let phase: PhaseName = job.phase && job.state === 'running' ? job.phase : 'provision';
    // Listening before anything can arrive; a restarted controller may already have missed a hello.
    const hello = new Promise<void>((resolve) => (live.hello = resolve));
    const verified = new Promise<TransferRecord>((resolve) => (live.verified = resolve));
    try {
      if (job.state === 'queued') {
        this.event(job.id, { type: 'phase:start', phase });
        // The library as it was, kept for the report (and for a restarted controller).
        jobs.setReport(job.id, { before: readHomeStats(home.plexDataDir) });
        transfers.open(`${job.id}-export`, job.id, 'export');
        if (job.spec.mode === 'delta') {
          const snapshot = await createHomeSnapshot(home.plexDataDir, join(config.server.stateDir, 'snapshots', job.id), { bundles: home.restoreBundles });
          await Promise.all([transfers.publish(`${job.id}-restore`, job.id, snapshot.stream, 64 * 1024 * 1024), snapshot.finished]);
        }
        job = this.move(job, 'queued', 'provisioning');
        await this.provision(job, provider);
      } else if (job.state === 'provisioning') {
        const resource = job.resource;
        const there = resource ? (await provider.status(resource)).exists : false;
        if (!there) {
          if (resource) await provider.teardown(resource, { keep: false });
          await this.provision(job, provider);
        }
      }
      if (job.state === 'provisioning') {
        await Promise.race([
          raceSignal(hello, signal, config.server.agentConnectTimeoutSeconds * 1000, () =>
            new PlexliftError('CONTROLLER_UNREACHABLE', `no agent connected within ${config.server.agentConnectTimeoutSeconds} s; its machine is deleted. Check that it can reach ${this.options.controllerUrl()} (URL, port, firewall)`),
          ),
          this.machineGone(job.id, provider, signal, 'the agent stopped before it connected'),
        ]);
        job = this.move(job, 'provisioning', 'running');
        this.event(job.id, { type: 'phase:complete', phase: 'provision', summary: { provider: provider.name } });
      }

      if (job.state === 'running') {
        // The agent's phases: until home holds the verified archive, or a phase fails, or the agent is gone.
        const held = transferStore.get(`${job.id}-export`);
        if (held?.state !== 'verified') await Promise.race([verified, this.agentFailure(job.id, provider, signal)]);
        job = this.move(job, 'running', 'verified');
      }

      if (job.state === 'verified') {
        const torn = jobs.phases(job.id).some((p) => p.phase === 'teardown' && p.state === 'done');
        if (!torn) {
          // The agent's last word (upload complete) before its machine goes.
          await this.uploadReported(job.id, 30_000);
          phase = 'teardown';
          this.event(job.id, { type: 'phase:start', phase });
          await provider.teardown(jobs.get(job.id)!.resource ?? {}, { keep: job.options.keep });
          this.event(job.id, { type: 'phase:complete', phase, summary: { kept: job.options.keep } });
        }
        if (job.options.noInstall) {
          this.event(job.id, { type: 'phase:complete', phase: 'install', summary: { skipped: true, reason: '--no-install: run plexlift install' } });
          const report = buildJobReport({ jobId: job.id, jobs, transfers: transferStore, before: beforeOf(job), after: undefined, hourlyPrice: provider.hourlyPrice });
          // Kept for `plexlift install`, whose report compares with the library as it was.
          jobs.setReport(job.id, { ...report, before: beforeOf(job) });
          return;
        }
      }
      if (job.state === 'verified' || job.state === 'installing') {
        phase = 'install';
        await this.installJob(job, transferStore.get(`${job.id}-export`)!, provider.hourlyPrice);
      }
    } catch (error) {
      if (this.stopping) return;
      const failure = signal.aborted && signal.reason instanceof PlexliftError ? signal.reason : toPlexliftError(error);
      // A machine gone while the agent ran fails the phase the agent was in, not provision.
      const at = job.state === 'running' ? (jobs.get(job.id)?.phase ?? phase) : phase;
      if (failure.details?.reportedBy !== 'agent') this.event(job.id, { type: 'phase:fail', phase: at, code: failure.code, message: failure.message });
      const resource = jobs.get(job.id)?.resource;
      if (resource && job.state !== 'verified' && job.state !== 'installing') {
        await provider.teardown(resource, { keep: job.options.keep }).catch((teardownError: unknown) => this.options.log('error', `job ${job.id}: teardown failed: ${(teardownError as Error).message}`));
      }
      const current = jobs.get(job.id)!;
      // What the job did and cost before it stopped: the report of a failure too.
      jobs.setReport(job.id, { ...buildJobReport({ jobId: job.id, jobs, transfers: transferStore, before: beforeOf(current), after: undefined, hourlyPrice: provider.hourlyPrice }), before: beforeOf(current) });
      jobs.transition(current, current.state, failure.code === 'JOB_ABORTED' ? 'aborted' : 'failed', { error: { code: failure.code, message: failure.message } });
    } finally {
      // Ends the helpers that watched this job (event followers, machine checks).
      live.abort.abort(new PlexliftError('UNEXPECTED', 'the job ended'));
      if (!this.stopping) {
        tokens.revokeJob(job.id);
        this.transferTokens.delete(job.id);
      }
    }
  }

  /** Starts the job's machine with a fresh one-time token, recorded before it exists. */
  private async provision(job: JobRecord, provider: Provider): Promise<void> {
    const { jobs, tokens } = this.options.controller;
    const bootstrapToken = tokens.issue(job.id, 'bootstrap', { ttlMs: this.options.config.server.agentConnectTimeoutSeconds * 1000 });
    await provider.provision({
      jobId: job.id,
      controllerUrl: this.options.controllerUrl(),
      ...(this.options.controllerTls ? { controllerTls: this.options.controllerTls } : {}),
      bootstrapToken,
      record: (resource) => jobs.setResource(job.id, resource),
    });
  }

  /** Rejects when the agent reports a failed phase, or its machine is gone, or the job is aborted. */
  private async agentFailure(jobId: string, provider: Provider, signal: AbortSignal): Promise<never> {
    const { controller } = this.options;
    const failed = (async () => {
      for await (const stored of controller.bus.events(jobId, signal)) {
        if (stored.event.type === 'phase:fail') {
          const code = stored.event.code in ERROR_CODES ? (stored.event.code as ErrorCode) : 'UNEXPECTED';
          // Already in the log as the agent's own phase:fail: the controller does not repeat it.
          throw new PlexliftError(code, `${stored.event.phase}: ${stored.event.message}`, { details: { reportedBy: 'agent' } });
        }
      }
      throw signal.reason as Error;
    })();
    return Promise.race([failed, this.machineGone(jobId, provider, signal, 'the agent stopped before the archive was home')]);
  }

  private async uploadReported(jobId: string, timeoutMs: number): Promise<void> {
    const done = () => this.options.controller.jobs.events(jobId, { types: ['phase:complete'] }).some((e) => e.event.type === 'phase:complete' && e.event.phase === 'upload');
    for (const until = Date.now() + timeoutMs; !done() && Date.now() < until; ) await sleep(100, undefined, { ref: false });
  }

  /** Rejects once the provider no longer finds the job's machine (checked every 2 s). */
  private async machineGone(jobId: string, provider: Provider, signal: AbortSignal, what: string): Promise<never> {
    for (;;) {
      await sleep(2_000, undefined, { signal, ref: false });
      const resource = this.options.controller.jobs.get(jobId)?.resource as ProviderResource | undefined;
      const status = resource ? await provider.status(resource) : undefined;
      if (status && !status.exists) {
        await sleep(2_000, undefined, { signal, ref: false }); // its last reports may still be on the way
        throw new PlexliftError('UNEXPECTED', `${what} (${status.detail}); see plexlift logs ${jobId}`);
      }
    }
  }

  private move(job: JobRecord, from: JobRecord['state'], to: JobRecord['state'], changes: { report?: Record<string, unknown> } = {}): JobRecord {
    const moved = this.options.controller.jobs.transition(this.options.controller.jobs.get(job.id) ?? job, from, to, changes);
    if (!moved) throw new PlexliftError('UNEXPECTED', `job ${job.id} changed under this controller (expected ${from})`);
    return moved;
  }

  private sequence = 0;

  /** A controller-side event, stored and broadcast like an agent's. */
  private event(jobId: string, event: AgentEvent): void {
    const stored = this.options.controller.jobs.appendEvent(jobId, `controller:${Date.now()}:${(this.sequence += 1)}`, event);
    if (stored) this.options.controller.bus.eventStored(stored);
  }
}

function raceSignal<T>(work: Promise<T>, signal: AbortSignal, timeoutMs: number, timeoutError: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(timeoutError()), timeoutMs).unref();
    const stop = () => reject(signal.reason as Error);
    signal.addEventListener('abort', stop, { once: true });
    work.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal.removeEventListener('abort', stop);
    });
  });
}


/** The home library as it was when the job started (kept in the job's report). */
function beforeOf(job: JobRecord): LibraryStats | undefined {
  return job.report?.before as LibraryStats | undefined;
}



