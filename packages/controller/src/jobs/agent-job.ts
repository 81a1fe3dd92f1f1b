import { PlexliftError, type Config } from '@plexlift/shared';
import type { AgentJob } from '@plexlift/shared/protocol';
import { PlexAccount } from '../plex-account.js';
import { PlexClaims, type ClaimAnswer } from './plex-claims.js';
import { rcloneConfigForJob } from './rclone-remote-config.js';
import type { ControllerTls, Provider } from '../providers/provider.js';
import type { JobRecord, JobStore } from '../store/job-store.js';
import type { TokenStore } from '../store/token-store.js';

/** The data plane's transfer ids of a job. */
export const transferIds = (jobId: string) => ({ restore: `${jobId}-restore`, export: `${jobId}-export` });

/**
 * The agent's side of a job: its machine started with a one-time bootstrap token, and what it
 * gets when it asks for its job: its spec, the storage config and its data plane; and, while
 * Plex starts, a plex.tv claim token minted once for that start. Transfer tokens live in memory
 * only (the store keeps their hashes), one per job for as long as the job runs here.
 */
export class AgentJobs {
  private readonly transferTokens = new Map<string, string>();
  /** plex.tv claims, once per plex-start attempt (not per `agent.job` call). */
  private readonly claims: PlexClaims;

  constructor(
    private readonly options: {
      config: (jobId: string) => Config;
      jobs: JobStore;
      tokens: TokenStore;
      controllerUrl: () => string;
      controllerTls: ControllerTls | undefined;
      /** Into the job's log (what a provider says while it provisions). */
      log?: (jobId: string, level: 'info' | 'warn', message: string) => void;
    },
  ) {
    this.claims = new PlexClaims({
      jobs: options.jobs,
      mint: async (jobId) => {
        const { home } = this.options.config(jobId);
        return home ? PlexAccount.fromHome(home).mintClaimToken() : undefined;
      },
    });
  }

  /** Starts the job's machine with a fresh one-time token (its only secret at birth), recorded before it exists. */
  async provision(job: JobRecord, provider: Provider, signal: AbortSignal): Promise<void> {
    const { jobs, tokens, controllerTls } = this.options;
    const bootstrapToken = tokens.issue(job.id, 'bootstrap', { ttlMs: this.options.config(job.id).server.agentConnectTimeoutSeconds * 1000 });
    await provider.provision({
      jobId: job.id,
      controllerUrl: this.options.controllerUrl(),
      ...(controllerTls ? { controllerTls } : {}),
      mediaPath: job.spec.media.mountPath,
      bootstrapToken,
      record: (resource) => jobs.setResource(job.id, resource),
      signal,
      log: (level, message) => this.options.log?.(job.id, level, message),
    });
  }

  // Nothing to wait for since the claim left it (it comes from `agentClaim`, once per plex-start).
  // eslint-disable-next-line @typescript-eslint/require-await
  async agentJob(jobId: string): Promise<AgentJob> {
    const config = this.options.config(jobId);
    const job = this.options.jobs.get(jobId);
    if (!job) throw new PlexliftError('BAD_ARGUMENT', `no job ${jobId}`);
    let token = this.transferTokens.get(jobId);
    if (!token) {
      token = this.options.tokens.issue(jobId, 'transfer');
      this.transferTokens.set(jobId, token);
    }
    // Only the job's remotes and what they wrap: the other remotes' credentials never leave home.
    const rcloneConfig = rcloneConfigForJob(config.media?.rcloneConfigPath, job.spec);
    const ids = transferIds(jobId);
    return {
      spec: job.spec,
      secrets: { ...(rcloneConfig ? { rcloneConfig } : {}) },
      transfers: { baseUrl: this.options.controllerUrl(), token, ...(job.spec.mode === 'delta' ? { restoreId: ids.restore } : {}), exportId: ids.export },
    };
  }

  /** The claim token for the Plex the job's agent is starting (`agent.claim`). */
  agentClaim(jobId: string): Promise<ClaimAnswer> {
    return this.claims.claim(jobId);
  }

  /** The job ended: every token it had stops working. */
  revoke(jobId: string): void {
    this.claims.forget(jobId);
    this.options.tokens.revokeJob(jobId);
    this.transferTokens.delete(jobId);
  }
}
