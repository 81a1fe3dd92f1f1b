import { setTimeout as sleep } from 'node:timers/promises';
import { PlexliftError } from '@plexlift/shared';
import { applyPreferences } from '@plexlift/shared/plex-api';
import { closeDatabase, openDatabaseReadOnly, readSonicProgress } from '@plexlift/shared/plex-db';
import { perHour } from '../library/section-files.js';
import { formatDuration } from '../monitors/idle-waiter.js';
import { SonicProgressTracker } from '../monitors/sonic-progress-tracker.js';
import { definePhase } from './phase.js';

/**
 * Sonic analysis through the Butler's MusicAnalysis task (never the scanner's `--force`, which
 * refreshes all metadata first), progress and ETA from the DB count, a stall reported as a
 * failure (reported as done, a half-analysed library would ship as analysed), Plex Pass checked
 * first. A landing stops the wait, not Plex: the phase completes `landed` with the count the DB
 * holds then, and plex-stop keeps it (and the few tracks Plex finishes meanwhile).
 */
export const sonic = definePhase({
  name: 'sonic',
  needs: ['plex'],
  applies: (job) => !job.skipSonic && !job.skipAnalysis && job.analyses.sonic !== false,
  landable: true,
  run: async ({ state, signal, landing, progress }) => {
    const { plex } = state;
    const read = () => {
      const db = openDatabaseReadOnly(state.mainDb);
      try {
        return readSonicProgress(db).reduce((sum, s) => ({ analyzed: sum.analyzed + s.analyzed, total: sum.total + s.total }), { analyzed: 0, total: 0 });
      } finally {
        closeDatabase(db);
      }
    };
    const initial = read();
    if (initial.total === 0 || initial.analyzed === initial.total) return { analyzed: initial.analyzed, total: initial.total, ran: false };
    const started = Date.now();
    try {
      const account = await plex.account(signal);
      if (!account.subscriptionActive) {
        throw new PlexliftError(
          'SAFETY_STOP',
          'Sonic analysis needs Plex Pass on the account that claimed the server, and it has none; run again with --skip-sonic or subscribe',
        );
      }
      await applyPreferences(plex, { MusicAnalysisBehavior: 'asap' }, signal);
      await plex.startButlerTask('MusicAnalysis', signal);
      const tracker = new SonicProgressTracker(state.sonic.tracker);
      for (;;) {
        await sleep(state.sonic.intervalMs, undefined, { signal });
        const now = read();
        const status = tracker.add({ at: Date.now(), analyzed: now.analyzed, total: now.total, cpuPercent: await state.cpu?.read() });
        progress({
          percent: status.percent,
          rate: { value: status.tracksPerHour, unit: 'tracks/h' },
          ...(status.etaMs === undefined ? {} : { etaMs: status.etaMs }),
          message: `${status.analyzed} of ${status.total} tracks`,
        });
        if (status.done) return { analyzed: status.analyzed, total: status.total, ran: true, tracksPerHour: status.tracksPerHour };
        if (status.stalled) {
          throw new PlexliftError(
            'PHASE_TIMEOUT',
            `Sonic analysis stalled at ${status.analyzed} of ${status.total} tracks: no progress for a long time; the job stops and keeps what was analysed`,
            {
              details: { ...status },
            },
          );
        }
        if (Date.now() - started > state.sonic.timeoutMs) {
          throw new PlexliftError(
            'PHASE_TIMEOUT',
            `Sonic analysis did not finish in ${formatDuration(state.sonic.timeoutMs)} (${status.analyzed} of ${status.total} tracks)`,
          );
        }
      }
    } catch (error) {
      if (!landing.aborted) throw error;
      const now = read();
      return {
        analyzed: now.analyzed,
        total: now.total,
        ran: true,
        landed: true,
        tracksPerHour: perHour(now.analyzed - initial.analyzed, Date.now() - started),
      };
    }
  },
});
