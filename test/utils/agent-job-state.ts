import type { AgentClaim, AgentJob } from '@plexlift/shared/protocol';
import type { HomeLine } from '../../packages/agent/src/home/connection.js';
import type { JobGiven, JobState } from '../../packages/agent/src/job-state.js';
import { IDLE_PROFILES } from '../../packages/agent/src/monitors/idle-waiter.js';
import type { PlexRuntime } from '../../packages/agent/src/plex/plex-runtime.js';

/** A line home that is always up and only hands out the job's secrets and its claim: phases run without a home. */
export function homeLineStub(given: AgentJob['secrets'] & AgentClaim = {}): HomeLine {
  const { claimToken, ...secrets } = given;
  return {
    job: () => Promise.resolve({ spec: {}, secrets, transfers: { baseUrl: 'http://127.0.0.1:9', token: '', exportId: '' } }),
    claim: () => Promise.resolve(claimToken ? { claimToken } : {}),
    fetch: (url, init) => fetch(url, init),
    offlineForMs: () => 0,
    online: () => Promise.resolve(),
  };
}

const NO_PLEX: PlexRuntime = {
  kind: 'process',
  configDir: '',
  start: () => Promise.reject(new Error('this test runs no Plex')),
  stop: () => Promise.resolve({ clean: true }),
  isRunning: () => false,
};

/**
 * The state phases get, for a test that runs some of them: what the test gives, over stand-ins
 * for the rest (a line home without a home, no Plex, the default waits).
 */
export function jobStateFor(state: Pick<JobGiven, 'workDir' | 'pmsDir' | 'mainDb'> & Partial<JobState>): JobState {
  return {
    connection: homeLineStub(),
    runtime: NO_PLEX,
    readPlexToken: () => undefined,
    idle: IDLE_PROFILES,
    sonic: { intervalMs: 120_000, timeoutMs: 72 * 3_600_000, tracker: {} },
    ...state,
  };
}
