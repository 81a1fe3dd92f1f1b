import { PlexliftError } from '@plexlift/shared';

/**
 * The daemon's own changes of home Plex from the API, one at a time: while a rollback puts a
 * backup back (home Plex stopped, files restored), no job starts and no install begins, and a
 * second rollback waits for no one: it is refused with what is under way. Jobs already running
 * are refused by the rollback itself (`assertNoInstall`): they would undo it.
 */
export class HomeGuard {
  private busy: string | undefined;

  /** Runs `work` with home to itself; refused while something else has it. */
  async exclusively<T>(what: string, work: () => Promise<T>): Promise<T> {
    this.refuseWhileBusy(what);
    this.busy = what;
    try {
      return await work();
    } finally {
      this.busy = undefined;
    }
  }

  /** Runs `work` unless a change of home is under way. */
  async whileIdle<T>(what: string, work: () => Promise<T>): Promise<T> {
    this.refuseWhileBusy(what);
    return await work();
  }

  private refuseWhileBusy(what: string): void {
    if (this.busy)
      throw new PlexliftError('SAFETY_STOP', `cannot ${what} now: the daemon is busy with home Plex (${this.busy} under way); nothing was changed`, {
        details: { busy: this.busy },
      });
  }
}
