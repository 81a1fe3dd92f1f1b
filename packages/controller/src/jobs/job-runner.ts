import {
  isFinal,
  JobRunOptionsSchema,
  LibraryStatsSchema,
  PlexliftError,
  toPlexliftError,
  type Config,
  type ErrorCode,
  type RunRequest,
} from '@plexlift/shared';
import { raceSignal } from '@plexlift/shared/retry';
import type { AgentJob, PhaseName } from '@plexlift/shared/protocol';
import type { LibraryStats } from '@plexlift/shared/plex-db';
import type { Logger } from '../logger.js';
import type { Notifier } from '../notify/notifier.js';
import type { ControllerTls, Provider, ProviderName } from '../providers/provider.js';
import type { JobBus } from '../store/job-bus.js';
import type { JobRecord, JobStore } from '../store/job-store.js';
import type { TokenStore } from '../store/token-store.js';
import type { ChunkTransfers } from '../transfers/chunk-transfers.js';
import type { TransferRecord, TransferStore } from '../transfers/transfer-store.js';
import { AgentJobs, transferIds } from './agent-job.js';
import { AgentWatch } from './agent-watch.js';
import { watchBudget } from './budget-watch.js';
import { budgetEnd, budgetOf, checkRunBudget, HOMEWARD_PHASES } from './job-budget.js';
import { estimateJob } from './job-estimate.js';
import { estimateLandingReserve, type LandingReserve } from './landing-reserve.js';
import { PROVIDERS } from '../providers/registry.js';
import { stageHomeSide } from './home-side.js';
import type { AgentHooks, CostEstimate, InstallRequest, JobControl, JobPlan, JobMeter, LandOutcome, LibraryProgress } from './job-control.js';
import { readLibraryProgress } from './library-progress.js';
import { installJob, installWaitingJob } from './job-install.js';
import { JobJournal } from './job-journal.js';
import type { ClaimAnswer } from './plex-claims.js';
import { currentPrice, planJob, prepareJob } from './job-planner.js';
import { buildJobReport } from './job-report.js';

export interface JobRunnerOptions {
  config: Config;
  jobs: JobStore;
  tokens: TokenStore;
  bus: JobBus;
  transfers: ChunkTransfers;
  transferStore: TransferStore;
  providers: Partial<Record<ProviderName, Provider>>;
  /** How agents reach this controller (known once its port is open). */
  controllerUrl: () => string;
  /** The certificate agents pin (the daemon's own TLS); absent when TLS is off. */
  controllerTls?: ControllerTls | undefined;
  logger: Logger;
  /** Who is told of a job's end, failure, landing and cap. */
  notifier?: Notifier;
}

/** Why a job the runner still drives cannot be installed by hand now. */
function stillUnderWay(job: JobRecord): string {
  if (job.state === 'installing') return 'it is installing now';
  if (job.options.noInstall) return `its machine is still being deleted (${job.state}${job.phase ? `, ${job.phase}` : ''}); install it once that is done`;
  return `it is still under way (${job.state}${job.phase ? `, ${job.phase}` : ''}) and installs by itself when its machine is deleted`;
}

/** A job this runner drives now. */
interface Live {
  abort: AbortController;
  done: Promise<void>;
  hello?: () => void;
  /** The config the job started with here: a reload (SIGHUP) applies to the jobs after it. */
  config: Config;
}

/**
 * Runs jobs from `plexlift run` to the report: provision (the machine recorded before it
 * exists), follow the agent's phases, teardown as soon as the archive is verified at home (so
 * billing stops before the install), install, report. Any failure or abort tears down first.
 * Every step is safe to take up again: a restarted controller resumes each job where it stood.
 */
export class JobRunner implements JobControl, AgentHooks {
  private readonly live = new Map<string, Live>();
  /** Set by close(): live jobs are left to a restarted controller, not failed. */
  private stopping = false;
  /** Aborted by close(): cuts teardowns short (a job's own cap or abort never does); the next start takes them up. */
  private readonly shutdown = new AbortController();
  private readonly journal: JobJournal;
  private readonly agentJobs: AgentJobs;
  private readonly watch: AgentWatch;
  private readonly stopListening: () => void;

  constructor(private options: JobRunnerOptions) {
    this.journal = new JobJournal(options.jobs, options.bus, options.logger, options.notifier);
    this.agentJobs = new AgentJobs({
      config: (jobId) => this.live.get(jobId)?.config ?? this.options.config,
      jobs: options.jobs,
      tokens: options.tokens,
      controllerUrl: options.controllerUrl,
      controllerTls: options.controllerTls,
      log: (jobId, level, message) => this.journal.event(jobId, { type: 'log', level, message }),
    });
    this.watch = new AgentWatch(options.jobs, options.bus);
    const stopVerified = options.bus.onTransferVerified((transfer) => {
      if (transfer.direction === 'export') this.verified.get(transfer.jobId)?.(transfer);
    });
    const stopFailures = this.journal.logFailures();
    this.stopListening = () => {
      stopVerified();
      stopFailures();
    };
  }

  /** The config new jobs start with (the latest a SIGHUP gave). */
  get config(): Config {
    return this.options.config;
  }

  /** A new config (SIGHUP): jobs started from now on use it; jobs under way keep theirs. */
  updateConfig(config: Config): void {
    this.options = { ...this.options, config };
  }

  /** Checks everything a job needs, records it and starts it; resolves once it is under way, with its cost estimate. */
  async run(request: RunRequest): Promise<JobRecord & { estimate: CostEstimate }> {
    const prepared = await prepareJob(request, this.options);
    checkRunBudget(request, prepared.provider);
    const hourlyPrice = await currentPrice(prepared.provider);
    const job = this.options.jobs.create({
      id: prepared.spec.jobId,
      library: prepared.library,
      provider: prepared.provider.name,
      spec: prepared.spec,
      options: JobRunOptionsSchema.parse(request),
    });
    const expected = estimateJob({
      spec: job.spec,
      noInstall: job.options.noInstall,
      library: job.library,
      jobs: this.options.jobs,
      hourlyPrice,
      isCloud: PROVIDERS[prepared.provider.name].isCloud,
    });
    this.options.jobs.setReport(job.id, { estimate: expected });
    this.journal.started(job, hourlyPrice);
    this.drive(job, prepared.provider);
    const budget = budgetOf(job.options, prepared.provider);
    return {
      ...job,
      estimate: {
        hourlyPrice,
        expected,
        ...(prepared.provider.caps ? { caps: prepared.provider.caps } : {}),
        ...(job.options.maxHours || job.options.maxCost || job.options.deadline ? { budget } : {}),
      },
    };
  }

  /** `--dry-run`: the plan, the cost estimate and the checks, and nothing started. */
  async plan(request: RunRequest): Promise<JobPlan> {
    const prepared = await prepareJob(request, this.options);
    checkRunBudget(request, prepared.provider);
    const plan = await planJob(prepared, this.options);
    const expected = estimateJob({
      spec: plan.spec,
      noInstall: request.noInstall,
      library: prepared.library,
      jobs: this.options.jobs,
      hourlyPrice: plan.hourlyPrice,
      isCloud: PROVIDERS[prepared.provider.name].isCloud,
    });
    return { ...plan, expected };
  }

  /** `plexlift progress`: what is left of the home library's work across runs (the config reloaded included). */
  progress(): LibraryProgress {
    return readLibraryProgress({ config: this.options.config, jobs: this.options.jobs });
  }

  /**
   * `plexlift land`: the job brings its work home now, as at its budget's end. A job already on
   * its way home is left as it is (said so); a job that ended has nothing to land.
   */
  land(jobId: string, reason: string): LandOutcome {
    const job = this.options.jobs.get(jobId);
    if (!job) throw new PlexliftError('BAD_ARGUMENT', `no job ${jobId}`);
    if (isFinal(job.state) || job.state === 'tearing-down')
      throw new PlexliftError('BAD_ARGUMENT', `job ${jobId} is ${job.state}: there is nothing to land${job.error ? ` (${job.error.message})` : ''}`);
    const where = job.phase ?? job.state;
    if (job.report?.landed)
      return {
        jobId,
        state: job.state,
        ordered: false,
        detail: `already landing since ${new Date(job.report.landed.requestedAt).toISOString()} (${job.report.landed.reason})`,
      };
    if (job.state === 'verified' || job.state === 'installing' || (job.state === 'running' && job.phase && HOMEWARD_PHASES.has(job.phase)))
      return { jobId, state: job.state, ordered: false, detail: `already bringing its work home (${where}); nothing changes` };
    const provider = this.providerOf(job);
    const reserve = provider ? this.landingReserve(job, provider) : undefined;
    this.orderLanding(job, reason, reserve);
    return { jobId, state: job.state, ordered: true, detail: `landing (${where}): the work done so far comes home and is installed; run again to continue` };
  }

  meter(jobId: string): JobMeter | undefined {
    const job = this.options.jobs.get(jobId);
    if (!job) return undefined;
    const provider = this.providerOf(job);
    const hourlyPrice = typeof job.resource?.hourlyPrice === 'number' ? job.resource.hourlyPrice : (provider?.hourlyPrice ?? 0);
    // Billing runs from the machine's request (the provision phase) to its teardown (an install after it costs nothing); a job that never asked for one costs nothing.
    const phases = this.options.jobs.phases(jobId);
    const asked = phases.find((p) => p.phase === 'provision')?.startedAt;
    const tornDown = phases.find((p) => p.phase === 'teardown')?.finishedAt;
    const hours = asked === undefined ? 0 : Math.max(0, (tornDown ?? job.finishedAt ?? Date.now()) - asked) / 3_600_000;
    const budget = provider ? budgetOf(job.options, provider) : {};
    const budgetEnds = budgetEnd(budget, job.createdAt, hourlyPrice);
    const bytes = { restore: 0, export: 0 };
    // A transfer under way counts the chunks stored so far; a verified one its whole.
    for (const transfer of this.options.transferStore.forJob(jobId))
      bytes[transfer.direction] += transfer.bytes ?? this.options.transferStore.chunks(transfer.id).reduce((sum, chunk) => sum + chunk.bytes, 0);
    return { hourlyPrice, hours, euros: hours * hourlyPrice, budget, ...(budgetEnds ? { budgetEnds } : {}), bytes };
  }

  agentJob(jobId: string): Promise<AgentJob> {
    return this.agentJobs.agentJob(jobId);
  }

  agentClaim(jobId: string): Promise<ClaimAnswer> {
    return this.agentJobs.agentClaim(jobId);
  }

  /** `plexlift install JOB`: the verified archive of a `--no-install` job goes in now. */
  async install(jobId: string, request: InstallRequest = { allowDeletions: false }): Promise<JobRecord> {
    const job = this.options.jobs.get(jobId);
    // A job this runner still drives is its own to install (or, with --no-install, waits for its teardown): a second install would race it.
    if (job && this.live.has(jobId)) throw new PlexliftError('BAD_ARGUMENT', `job ${jobId} is not waiting for an install: ${stillUnderWay(job)}`);
    return await installWaitingJob(jobId, (job && this.providerOf(job)?.hourlyPrice) ?? 0, this.installContext(), request);
  }

  onConnect(jobId: string): void {
    this.live.get(jobId)?.hello?.();
  }

  async abort(jobId: string, reason: string): Promise<void> {
    this.journal.commandAbort(jobId, reason);
    const live = this.live.get(jobId);
    live?.abort.abort(new PlexliftError('JOB_ABORTED', `aborted: ${reason}`));
    await live?.done;
  }

  /** Stops following jobs (the daemon is stopping); their agents keep working. */
  async close(): Promise<void> {
    this.stopping = true;
    this.stopListening();
    const stopping = new PlexliftError('UNEXPECTED', 'the controller is stopping');
    this.shutdown.abort(stopping);
    const left = [...this.live.keys()];
    for (const live of this.live.values()) live.abort.abort(stopping);
    await this.idle();
    // Where each job stands is in the store already: said here so the log shows what the next start takes up.
    for (const jobId of left) {
      const job = this.options.jobs.get(jobId);
      if (job && !isFinal(job.state))
        this.options.logger.info(`job ${jobId} left ${job.state}${job.phase ? ` (${job.phase})` : ''}; it goes on at the next start`);
    }
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
    const taken: JobRecord[] = [];
    for (const job of this.options.jobs.live()) {
      const provider = this.providerOf(job);
      if (!provider) {
        this.journal.end(
          job.id,
          new PlexliftError('CONFIG_INVALID', `providers.${job.provider}: no longer configured, so the job cannot go on; check plexlift vms for its machine`),
        );
        continue;
      }
      this.drive(job, provider);
      taken.push(job);
    }
    return taken;
  }

  /** Who waits for a job's export to be verified. */
  private readonly verified = new Map<string, (transfer: TransferRecord) => void>();

  private providerOf(job: JobRecord): Provider | undefined {
    return this.options.providers[job.provider as ProviderName];
  }

  private installContext(config: Config = this.options.config) {
    return { config, journal: this.journal, transfers: this.options.transfers, transferStore: this.options.transferStore };
  }

  /** The time a landing of this job needs now (seconds), from its measures and its library's past runs. */
  private landingReserve(job: JobRecord, provider: Provider): LandingReserve {
    return estimateLandingReserve({
      job,
      jobs: this.options.jobs,
      transfers: this.options.transferStore,
      isCloud: PROVIDERS[provider.name].isCloud,
      marginSeconds: (this.live.get(job.id)?.config ?? this.options.config).server.landingMarginSeconds,
    });
  }

  /** Tells the agent to land, and records it in the report (the estimate against what it takes). */
  private orderLanding(job: JobRecord, reason: string, reserve: LandingReserve | undefined): void {
    const current = this.options.jobs.get(job.id) ?? job;
    this.options.jobs.setReport(job.id, {
      ...current.report,
      landed: { reason, requestedAt: Date.now(), ...(reserve === undefined ? {} : { reserveSeconds: reserve.seconds }), unfinished: [] },
    });
    const parts = reserve && Object.entries(reserve.parts).map(([part, seconds]) => `${part} ${seconds} s`);
    this.journal.event(job.id, {
      type: 'log',
      level: 'info',
      message: `landing: ${reason}${reserve ? `; reserved ${parts!.join(', ')} (from ${reserve.basis})` : ''}`,
    });
    this.journal.commandLand(job.id, reason);
  }

  private drive(job: JobRecord, provider: Provider): void {
    const live: Live = { abort: new AbortController(), done: Promise.resolve(), config: this.options.config };
    this.live.set(job.id, live);
    const stopWatch = watchBudget({
      jobId: job.id,
      provider,
      jobs: this.options.jobs,
      budget: budgetOf(job.options, provider),
      reserve: () => this.landingReserve(this.options.jobs.get(job.id) ?? job, provider),
      land: (reason, reserve) => this.orderLanding(job, reason, reserve),
      stop: (reason) => {
        if (live.abort.signal.aborted) return;
        // A landing that ran past the cap: the report shows the estimate against what happened.
        const current = this.options.jobs.get(job.id);
        if (current?.report?.landed) this.options.jobs.setReport(job.id, { ...current.report, landed: { ...current.report.landed, overran: true } });
        this.journal.commandAbort(job.id, reason);
        this.options.notifier?.notify({
          event: 'job:cap',
          jobId: job.id,
          title: `plexlift: job ${job.id} reached its cap`,
          text: `${reason}.`,
          details: { reason },
        });
        live.abort.abort(new PlexliftError('SAFETY_STOP', reason));
      },
    });
    live.done = this.execute(job, provider, live)
      .catch((error: unknown) => this.options.logger.forJob(job.id).error((error as Error).message))
      .finally(() => {
        stopWatch();
        this.live.delete(job.id);
        this.verified.delete(job.id);
      });
  }

  /** Runs a job from whatever state it is in to its end. */
  private async execute(initial: JobRecord, provider: Provider, live: Live): Promise<void> {
    const { jobs, transferStore } = this.options;
    const { journal } = this;
    const { config } = live;
    const signal = live.abort.signal;
    const ids = transferIds(initial.id);
    let job = initial;
    let phase: PhaseName = job.phase && job.state === 'running' ? job.phase : 'provision';
    // Listening before anything can arrive; a restarted controller may already have missed a hello.
    const hello = new Promise<void>((resolve) => (live.hello = resolve));
    const verified = new Promise<TransferRecord>((resolve) => this.verified.set(job.id, resolve));
    try {
      if (job.state === 'tearing-down') return await this.endAfterTeardown(job, provider, failureOf(job));
      if (job.state === 'queued') {
        journal.event(job.id, { type: 'phase:start', phase });
        await stageHomeSide(job, { ...this.options, config });
        job = journal.move(job, 'queued', 'provisioning');
        await this.agentJobs.provision(job, provider, signal);
      } else if (job.state === 'provisioning') {
        const resource = job.resource;
        const there = resource ? (await provider.status(resource, signal)).exists : false;
        if (!there) {
          if (resource) await raceSignal(provider.teardown(resource, { keep: false, signal: this.shutdown.signal }), signal);
          await this.agentJobs.provision(job, provider, signal);
        }
      }
      if (job.state === 'provisioning') {
        const connectSeconds = config.server.agentConnectTimeoutSeconds;
        await Promise.race([
          raceSignal(hello, signal, {
            ms: connectSeconds * 1000,
            error: () =>
              new PlexliftError(
                'CONTROLLER_UNREACHABLE',
                `no agent connected within ${connectSeconds} s; its machine is deleted. Check that it can reach ${this.options.controllerUrl()} (URL, port, firewall)`,
              ),
          }),
          this.watch.machineGone(job.id, provider, signal, 'the agent stopped before it connected'),
        ]);
        job = journal.move(job, 'provisioning', 'running');
        journal.event(job.id, { type: 'phase:complete', phase: 'provision', summary: { provider: provider.name } });
      }

      if (job.state === 'running') {
        // The agent's phases: until home holds the verified archive, or a phase fails, or the agent is gone.
        if (transferStore.get(ids.export)?.state !== 'verified') await Promise.race([verified, this.watch.agentFailure(job.id, provider, signal)]);
        job = journal.move(job, 'running', 'verified');
      }

      if (job.state === 'verified') {
        const torn = jobs.phases(job.id).some((p) => p.phase === 'teardown' && p.state === 'done');
        if (!torn) {
          // The agent's last word (upload complete) before its machine goes.
          await this.watch.uploadReported(job.id, 30_000, signal);
          phase = 'teardown';
          await this.teardown(job, provider);
        }
        if (job.options.noInstall) {
          journal.event(job.id, { type: 'phase:complete', phase: 'install', summary: { skipped: true, reason: '--no-install: run plexlift install' } });
          // Kept for `plexlift install`, whose report compares with the library as it was; until
          // then it shows the library as the VM shipped it.
          jobs.setReport(
            job.id,
            buildJobReport({
              jobId: job.id,
              jobs,
              transfers: transferStore,
              hourlyPrice: provider.hourlyPrice,
              after: shippedLibrary(jobs, job.id),
              shipped: true,
            }),
          );
          return;
        }
      }
      if (job.state === 'verified' || job.state === 'installing') {
        phase = 'install';
        await installJob(job, transferStore.get(ids.export)!, provider.hourlyPrice, this.installContext(config));
      }
    } catch (error) {
      if (this.stopping) return;
      const failure = signal.aborted && signal.reason instanceof PlexliftError ? signal.reason : toPlexliftError(error);
      await this.fail(job, phase, provider, failure);
    } finally {
      // Ends the helpers that watched this job (event followers, machine checks).
      live.abort.abort(new PlexliftError('UNEXPECTED', 'the job ended'));
      if (!this.stopping) this.agentJobs.revoke(job.id);
      // What the job no longer needs leaves the disk (a restore snapshot is a copy of the home DB).
      if (!this.stopping) this.options.transfers.release(job.id, jobs.get(job.id)?.state ?? job.state);
    }
  }

  /**
   * The teardown phase: deletes the job's machine, saying in the job's log what it waits for
   * (a server still starting, a volume detaching). Only the daemon stopping cuts it short.
   */
  private async teardown(job: JobRecord, provider: Provider): Promise<void> {
    const { journal } = this;
    const shutdown = this.shutdown.signal;
    journal.event(job.id, { type: 'phase:start', phase: 'teardown' });
    await raceSignal(
      provider.teardown(this.options.jobs.get(job.id)?.resource ?? {}, {
        keep: job.options.keep,
        signal: shutdown,
        onWait: (detail) => {
          if (!shutdown.aborted) journal.event(job.id, { type: 'phase:progress', phase: 'teardown', message: detail });
        },
      }),
      shutdown,
    );
    journal.event(job.id, { type: 'phase:complete', phase: 'teardown', summary: { kept: job.options.keep } });
  }

  /** A job that cannot go on: its machine deleted first (unless home holds its work), then its report and its end. */
  private async fail(job: JobRecord, phase: PhaseName, provider: Provider, failure: PlexliftError): Promise<void> {
    const { jobs } = this.options;
    const current = jobs.get(job.id) ?? job;
    // A machine gone while the agent ran fails the phase the agent was in, not provision.
    const at = current.state === 'running' ? (current.phase ?? phase) : phase;
    if (failure.details?.reportedBy !== 'agent') this.journal.event(job.id, { type: 'phase:fail', phase: at, code: failure.code, message: failure.message });
    if (current.resource && (current.state === 'queued' || current.state === 'provisioning' || current.state === 'running')) {
      // The failure is recorded before the machine goes: a daemon stopped meanwhile ends it at its next start.
      const tearing = this.journal.move(current, current.state, 'tearing-down', { error: { code: failure.code, message: failure.message } });
      return this.endAfterTeardown(tearing, provider, failure);
    }
    this.end(job.id, provider, failure);
  }

  /** A job `tearing-down`: its machine deleted, then its end with the failure that stopped it. */
  private async endAfterTeardown(job: JobRecord, provider: Provider, failure: PlexliftError): Promise<void> {
    try {
      await this.teardown(job, provider);
      this.end(job.id, provider, failure);
    } catch (error) {
      if (this.stopping) return; // still tearing-down: the next start goes on with it
      const left = toPlexliftError(error);
      this.journal.event(job.id, { type: 'phase:fail', phase: 'teardown', code: left.code, message: left.message });
      // Tracked: the reaper finds what a job that ended left (plexlift vms lists it) and deletes it.
      const reaper = /reaper|sweep/.test(left.message) ? '' : '; the orphan reaper deletes what is left (plexlift vms)';
      this.end(job.id, provider, new PlexliftError(failure.code, `${failure.message}; its machine is not all deleted yet: ${left.message}${reaper}`));
    }
  }

  /** The report (what the job did and cost before it stopped) and the end. */
  private end(jobId: string, provider: Provider, failure: PlexliftError): void {
    const { jobs, transferStore } = this.options;
    jobs.setReport(jobId, buildJobReport({ jobId, jobs, transfers: transferStore, hourlyPrice: provider.hourlyPrice }));
    this.journal.end(jobId, failure);
  }
}

/** The failure a job `tearing-down` recorded when it stopped. */
function failureOf(job: JobRecord): PlexliftError {
  return new PlexliftError((job.error?.code ?? 'UNEXPECTED') as ErrorCode, job.error?.message ?? 'the job stopped');
}

/** The library's counts the VM reported as it exported (checked for shape only: the install counts again at home). */
function shippedLibrary(jobs: JobStore, jobId: string): LibraryStats | undefined {
  const exported = jobs.phases(jobId).find((p) => p.phase === 'export')?.summary?.library;
  const parsed = LibraryStatsSchema.safeParse(exported);
  return parsed.success ? parsed.data : undefined;
}
