import type { AgentJob, JobSpec } from '@plexlift/shared/protocol';
import type { JobEstimate, RunRequest } from '@plexlift/shared';
import type { Provider } from '../providers/provider.js';
import type { JobBudget } from './job-budget.js';
import type { JobRecord } from '../store/job-store.js';
import type { Holding, ReapOutcome } from './orphan-reaper.js';
import type { ClaimAnswer } from './plex-claims.js';

// The contract between the server (which takes requests) and whatever runs jobs: the server
// depends on this module, never on the runner, so the two can be built in either order.

/** What a job costs per hour and where the controller stops it. */
export interface CostEstimate {
  hourlyPrice: number;
  caps?: Provider['caps'];
  /** This run's budget when it has one (its flags, a schedule's window): it lands before it. */
  budget?: JobBudget;
  /** How long the job should take and what it should cost, phase by phase. */
  expected?: JobEstimate;
}

/** What `--dry-run` shows. */
export interface JobPlan extends CostEstimate {
  spec: JobSpec;
  provider: Provider['name'];
  checks: { name: string; ok: boolean; detail: string }[];
}

/** What `plexlift land` did: a landing ordered now, or why nothing changed. */
export interface LandOutcome {
  jobId: string;
  /** The job's state when asked. */
  state: string;
  /** False when the job was already bringing its work home (landing, plex-stop, export, upload or later). */
  ordered: boolean;
  detail: string;
}

/**
 * What is left of a library's work across runs (`plexlift progress`): read from the home DB now
 * and from the job store's history, with an estimate at the rates the runs achieved.
 */
export interface LibraryProgress {
  /** The job store's library key (one live job per library). */
  library: string;
  sections: {
    id: number;
    title: string;
    type: string;
    /** Music sections: tracks with a Sonic analysis of all tracks. */
    sonic?: { analyzed: number; total: number };
    /** Other analyses the DB can count (e.g. media analysis, loudness): done of total. */
    analyses: { name: string; done: number; total: number }[];
  }[];
  /** Newest first. */
  runs: {
    jobId: string;
    startedAt: number;
    state: string;
    outcome: 'complete' | 'landed' | 'failed' | 'aborted' | 'under way';
    hours?: number;
    cost?: number;
    /** Sonic tracks this run added (after − before). */
    tracksDone?: number;
    schedule?: string;
  }[];
  remaining: { tracks: number; analyses: number };
  /** At the measured rates; absent until a run has measured one. */
  estimate?: { hours: number; runs: number; euros: number; basis: string };
  /** Nothing left that a run would do (the `until: complete` of a schedule). */
  complete: boolean;
}

/** One `schedule` entry as `plexlift schedule` shows it. */
export interface ScheduleEntryView {
  name: string;
  cron: string;
  windowHours: number;
  /** Epoch ms; absent once an `until: complete` entry is done. */
  nextStart?: number;
  until?: 'complete';
  /** `until: complete` reached: no more runs. */
  finished: boolean;
  last?: { at: number; outcome: 'started' | 'skipped' | 'failed'; jobId?: string; detail: string };
}

/** `plexlift install JOB`'s say-so. */
export interface InstallRequest {
  /** Installs over the home-side deletion cap. */
  allowDeletions: boolean;
}

/** A job's meter as `jobs.get` shows it: what it costs so far against its budget, and the bytes moved. */
export interface JobMeter {
  hourlyPrice: number;
  /** From the machine's request to its teardown (to now while it may still exist): what it bills. */
  hours: number;
  euros: number;
  /** The tightest of the provider's caps, the run's budget and a schedule's window. */
  budget: JobBudget;
  /** When that budget ends and which limit ends it; absent for a job without limits. */
  budgetEnds?: { at: number; what: string };
  /** The home snapshot the machine started from, and what came home of its archive so far. */
  bytes: { restore: number; export: number };
}

/** A backup an install made (`plexlift backups list`), newest first. */
export interface BackupView {
  /** The backup's folder name (what `rollback --backup` and the API's rollback take). */
  name: string;
  jobId: string;
  /** ISO time. */
  createdAt: string;
  /** Home files the install overwrote (copied into the backup) and files it added (removed on rollback). */
  replaced: number;
  added: number;
}

/** What a rollback put back. */
export interface RollbackOutcome {
  backup: string;
  jobId: string;
}

/** One of the doctor's checks: ok, or what to fix. */
export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** What the admin API asks of the job runner and the reaper; each absent one is refused. */
export interface JobControl {
  run?: (request: RunRequest) => Promise<JobRecord & { estimate: CostEstimate }>;
  /** What `run` would do, its cost estimate and its checks; starts nothing (`--dry-run`). */
  plan?: (request: RunRequest) => Promise<JobPlan>;
  /** Installs the verified archive of a `--no-install` job, or of a job whose install was refused or failed. */
  install?: (jobId: string, options?: InstallRequest) => Promise<JobRecord>;
  abort: (jobId: string, reason: string) => Promise<void>;
  /** `plexlift land`: the job brings its work home now and ends with an install (incomplete). */
  land?: (jobId: string, reason: string) => LandOutcome;
  /** A job's cost so far against its budget, and its bytes moved (`jobs.get`). */
  meter?: (jobId: string) => JobMeter | undefined;
  /** `plexlift progress`: what is left across runs. */
  progress?: () => LibraryProgress;
  /** `plexlift schedule`: the scheduled bursts. */
  schedule?: () => ScheduleEntryView[];
  /** Everything the providers hold (`plexlift vms`). */
  holdings?: () => Promise<Holding[]>;
  /** One pass of the orphan reaper (`plexlift reap`). */
  reap?: (dryRun: boolean) => Promise<ReapOutcome[]>;
  /** The backups home installs made (`plexlift backups list`). */
  backups?: () => BackupView[];
  /** Puts a backup (the newest when none is named) back into home Plex (`plexlift rollback`). */
  rollback?: (backup: string | undefined) => Promise<RollbackOutcome>;
  /** The doctor's checks as the daemon sees them (`plexlift doctor`); changes nothing. */
  doctor?: () => Promise<DoctorCheck[]>;
}

/** What the agents' side of the server tells whoever runs jobs, and asks of it. */
export interface AgentHooks {
  /** What an agent gets when it asks for its job. */
  agentJob: (jobId: string) => Promise<AgentJob>;
  /** A plex.tv claim for the Plex an agent is starting, minted once per plex-start. */
  agentClaim?: (jobId: string) => Promise<ClaimAnswer>;
  /** An agent said hello (its first connection); `onConnect` when absent. */
  onHello?: (jobId: string) => void;
  /** An agent is connected: after its hello and after every reconnect. */
  onConnect?: (jobId: string) => void;
}
