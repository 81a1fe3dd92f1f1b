import type { JobState } from '../job-state.js';
import { reportPlexOutput } from '../plex-output.js';
import { startPlex } from '../start-plex.js';
import type { Phase } from './phase.js';

/** Starts the pinned Plex with the just-in-time claim token and makes it safe to scan. */
export const plexStart: Phase<JobState> = {
  name: 'plex-start',
  run: async ({ job, state, signal, progress, report }) => {
    if (!state.runtime || !state.readPlexToken) throw new Error('plex-start needs a Plex runtime');
    // Claim tokens live about four minutes: a fresh one now, not the one from connect (a restore
    // can take longer than that).
    const claimToken = state.connection ? (await state.connection.job()).secrets.claimToken : state.secrets?.claimToken;
    const started = await startPlex(state.runtime, {
      version: job.plex.version,
      mediaPaths: [job.media.mountPath],
      claimToken,
      readToken: state.readPlexToken,
      timeZone: state.timeZone ?? 'UTC',
      readyTimeoutMs: state.readyTimeoutMs ?? 10 * 60_000,
      signal,
      onStep: (step) => progress({ message: step }),
      onStopped: (output) => reportPlexOutput(report, output),
    });
    state.plex = started.client;
    return { machineIdentifier: started.machineIdentifier, preferences: started.preferences.map((p) => `${p.id}=${String(p.after)}`) };
  },
};
