import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobState } from '../job-state.js';
import type { Phase } from './phase.js';

/**
 * The agent is home-connected before the runner starts (so every event is journaled); this phase
 * fetches the job's secrets over that authenticated channel and puts each where it is used:
 * the rclone config in a file only the agent reads. Nothing secret is reported.
 */
export const connect: Phase<JobState> = {
  name: 'connect',
  run: async ({ state }) => {
    if (!state.connection) throw new Error('connect needs a started connection home');
    const job = await state.connection.job();
    state.secrets = job.secrets;
    state.transfers = job.transfers;
    if (job.secrets.rcloneConfig) writeFileSync(join(state.workDir, 'rclone.conf'), job.secrets.rcloneConfig, { mode: 0o600 });
    return { claimToken: job.secrets.claimToken ? 'received' : 'none', storage: job.secrets.rcloneConfig ? 'received' : 'none' };
  },
};
