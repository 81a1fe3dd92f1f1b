import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { definePhase } from './phase.js';

/**
 * The agent is home-connected before the runner starts (so every event is journaled); this phase
 * fetches the job's secrets over that authenticated channel and puts each where it is used:
 * the rclone config in a file only the agent reads, the data plane's address and token in the
 * state. Nothing secret is reported.
 */
export const connect = definePhase({
  name: 'connect',
  makes: ['transfers'],
  run: async ({ state, make }) => {
    const job = await state.connection.job();
    make({ transfers: job.transfers });
    if (job.secrets.rcloneConfig) writeFileSync(join(state.workDir, 'rclone.conf'), job.secrets.rcloneConfig, { mode: 0o600 });
    return { storage: job.secrets.rcloneConfig ? 'received' : 'none' };
  },
});
