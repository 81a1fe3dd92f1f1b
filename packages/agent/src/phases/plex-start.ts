import { reportPlexOutput } from '../plex/plex-output.js';
import { startPlex } from '../plex/start-plex.js';
import { definePhase } from './phase.js';

/** Starts the pinned Plex with the just-in-time claim token and makes it safe to scan. */
export const plexStart = definePhase({
  name: 'plex-start',
  makes: ['plex'],
  run: async ({ job, state, signal, progress, report, make }) => {
    // Claim tokens live about four minutes and claim once: home mints one for this start of the
    // phase (issue 16 item 4), asked now rather than at connect (a restore can take longer).
    const { claimToken } = await state.connection.claim();
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
    make({ plex: started.client });
    return { machineIdentifier: started.machineIdentifier, preferences: started.preferences.map((p) => `${p.id}=${String(p.after)}`) };
  },
});
