import type { AgentJob, JobSpec } from '@plexlift/shared/protocol';
import type { RunRequest } from '@plexlift/shared';
import type { Provider } from '../providers/provider.js';
import type { JobRecord } from '../store/job-store.js';
import type { Holding, ReapOutcome } from './orphan-reaper.js';
import type { ClaimAnswer } from './plex-claims.js';

// The contract between the server (which takes requests) and whatever runs jobs: the server
// depends on this module, never on the runner, so the two can be built in either order.

/** What a job costs per hour and where the controller stops it. */
export interface CostEstimate {
  hourlyPrice: number;
  caps?: Provider['caps'];
}

/** What `--dry-run` shows. */
export interface JobPlan extends CostEstimate {
  spec: JobSpec;
  provider: Provider['name'];
  checks: { name: string; ok: boolean; detail: string }[];
}

/** What the admin API asks of the job runner and the reaper; each absent one is refused. */
export interface JobControl {
  run?: (request: RunRequest) => Promise<JobRecord & { estimate: CostEstimate }>;
  /** What `run` would do, its cost estimate and its checks; starts nothing (`--dry-run`). */
  plan?: (request: RunRequest) => Promise<JobPlan>;
  /** Installs the verified archive of a `--no-install` job. */
  install?: (jobId: string) => Promise<JobRecord>;
  abort: (jobId: string, reason: string) => Promise<void>;
  /** Everything the providers hold (`plexlift vms`). */
  holdings?: () => Promise<Holding[]>;
  /** One pass of the orphan reaper (`plexlift reap`). */
  reap?: (dryRun: boolean) => Promise<ReapOutcome[]>;
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
