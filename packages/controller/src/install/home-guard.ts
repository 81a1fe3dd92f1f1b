import { PlexliftError } from '@plexlift/shared';
import { assertHomeUnlocked } from './home-lock.js';

/**
 * The daemon's own changes of home Plex from the API, one at a time: while a rollback puts a
 * backup back (home Plex stopped, files restored), no job starts and no install begins; while one
 * is being started or installed (its checks take seconds before the job is on record), no
 * rollback begins; a second rollback is refused with what is under way. Across processes (a
 * `plexlift rollback` of the CLI) the same holds through the state folder's lock (home-lock.ts),
 * which a rollback takes wherever it runs. Jobs already
 * on record are refused by the rollback itself (`assertNoInstall`): they would undo it.
 */
export class HomeGuard {
  private busy: { what: string; done: Promise<unknown> } | undefined;
  private working = 0;
  private isStopping = false;

  constructor(private readonly stateDir: string) {}

  /** Runs `work` with home to itself; refused while anything else has it or is starting. */
  async exclusively<T>(what: string, work: () => Promise<T>): Promise<T> {
    this.refuseWhileBusy(what);
    if (this.working > 0)
      throw new PlexliftError('SAFETY_STOP', `cannot ${what} now: a job is being started or installed; nothing was changed`, { details: { busy: 'a job' } });
    const done = work();
    this.busy = { what, done };
    try {
      return await done;
    } finally {
      this.busy = undefined;
    }
  }

  /** Runs `work` (a job's start, an install) unless a change of home is under way; none begins until it ends. */
  async whileIdle<T>(what: string, work: () => Promise<T>): Promise<T> {
    this.refuseWhileBusy(what);
    assertHomeUnlocked(this.stateDir, what);
    this.working++;
    try {
      return await work();
    } finally {
      this.working--;
    }
  }

  /** Refuses what comes next and waits for a change under way (a daemon stopping leaves home whole when it can). */
  async stop(): Promise<void> {
    this.isStopping = true;
    await this.busy?.done.catch(() => undefined);
  }

  private refuseWhileBusy(what: string): void {
    if (this.isStopping) throw new PlexliftError('SAFETY_STOP', `cannot ${what} now: the daemon is stopping; nothing was changed`);
    if (this.busy)
      throw new PlexliftError('SAFETY_STOP', `cannot ${what} now: the daemon is busy with home Plex (${this.busy.what} under way); nothing was changed`, {
        details: { busy: this.busy.what },
      });
  }
}
