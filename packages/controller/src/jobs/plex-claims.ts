import type { AgentClaim } from '@plexlift/shared/protocol';
import type { JobStore } from '../store/job-store.js';

/** The answer to an agent's claim request: the claim, or why there is none now. */
export type ClaimAnswer = { ok: true; claim: AgentClaim } | { ok: false; reason: string };

/** The phase that starts Plex on the VM, and claims it. */
const PLEX_START = 'plex-start';

/**
 * Starts of `plex-start` a job gets claims for: the first and two retries. The starts are the
 * agent's own reports, so without a cap a compromised VM would get a fresh claim per start.
 */
export const PLEX_START_CLAIM_LIMIT = 3;

/**
 * plex.tv claim tokens, minted once per `plex-start` attempt (issue 16 item 4). A claim lives
 * minutes and claims one server, so minting one each time an agent asks would hand a
 * compromised VM a fresh claim per call. The attempt is the agent's latest `phase:start` of
 * `plex-start` in the job's events: a second request within it gets the same claim (a call cut
 * by a dropped line is asked again), a new start of the phase gets a new one, up to
 * `PLEX_START_CLAIM_LIMIT` starts; once the phase completed there is none, whatever starts follow.
 * Counted from the stored events, so a restarted controller keeps the limit. The claim is kept in
 * memory only, never in events or logs.
 */
export class PlexClaims {
  /** Per job: the `phase:start` event id of the attempt, and its claim (a promise, so concurrent asks mint once). */
  private readonly minted = new Map<string, { attempt: number; claim: Promise<AgentClaim> }>();

  constructor(
    private readonly options: {
      jobs: Pick<JobStore, 'events'>;
      /** Mints one claim with the owner's account; undefined when home has none to claim with. */
      mint: (jobId: string) => Promise<string | undefined>;
    },
  ) {}

  async claim(jobId: string): Promise<ClaimAnswer> {
    let attempt: number | undefined;
    let starts = 0;
    let completed = false;
    for (const { id, event } of this.options.jobs.events(jobId, { types: ['phase:start', 'phase:complete'] })) {
      if (!('phase' in event) || event.phase !== PLEX_START) continue;
      if (event.type === 'phase:start') {
        attempt = id;
        starts += 1;
      } else completed = true;
    }
    if (completed) return { ok: false, reason: 'plex-start completed: Plex is claimed, no claim token is given any more' };
    if (attempt === undefined) return { ok: false, reason: 'a claim token is given only while Plex starts, and plex-start has not begun' };
    if (starts > PLEX_START_CLAIM_LIMIT) {
      return {
        ok: false,
        reason: `plex-start was started ${starts} times: claim tokens are given for its first ${PLEX_START_CLAIM_LIMIT} starts only`,
      };
    }
    const known = this.minted.get(jobId);
    if (known?.attempt === attempt) return { ok: true, claim: await known.claim };
    const claim = this.options.mint(jobId).then((claimToken) => (claimToken ? { claimToken } : {}));
    this.minted.set(jobId, { attempt, claim });
    // A failed mint is not the attempt's claim: the next ask tries again.
    claim.catch(() => this.minted.get(jobId)?.claim === claim && this.minted.delete(jobId));
    return { ok: true, claim: await claim };
  }

  /** The job ended: its claim is forgotten. */
  forget(jobId: string): void {
    this.minted.delete(jobId);
  }
}
