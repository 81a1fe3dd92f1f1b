import type { ScheduleEntryView } from '../jobs/job-control.js';
import type { StoreDatabase } from './schema.js';

export type FiringOutcome = NonNullable<ScheduleEntryView['last']>['outcome'];

/** What one firing of a schedule entry came to. */
export interface Firing {
  entry: string;
  /** The start time the cron gave (epoch ms): the window is counted from it. */
  at: number;
  outcome: FiringOutcome;
  jobId?: string;
  detail: string;
}

interface FiringRow {
  entry: string;
  firing_at: number;
  outcome: FiringOutcome;
  job_id: string | null;
  detail: string;
}

/** Rows kept per entry: enough for `plexlift schedule` and a look back, never a growing table. */
const KEPT_PER_ENTRY = 200;

/**
 * The outcome of each firing of the scheduled bursts. A firing is claimed before its run starts,
 * so one that a crash cut short is never started again by the next daemon.
 */
export class ScheduleStore {
  constructor(
    private readonly db: StoreDatabase,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Takes the firing of `entry` at `at` for this daemon: false when it was already taken (a
   * restart inside the window it started). Recorded as failed until `settle` says otherwise.
   */
  claim(entry: string, at: number): boolean {
    const inserted = this.db
      .prepare(
        `INSERT INTO schedule_firings (entry, firing_at, outcome, detail, recorded_at) VALUES (?, ?, 'failed', 'the daemon stopped before the run started', ?)
         ON CONFLICT (entry, firing_at) DO NOTHING`,
      )
      .run(entry, at, this.now()).changes;
    if (inserted === 1)
      this.db
        .prepare(
          'DELETE FROM schedule_firings WHERE entry = ? AND id NOT IN (SELECT id FROM schedule_firings WHERE entry = ? ORDER BY firing_at DESC, id DESC LIMIT ?)',
        )
        .run(entry, entry, KEPT_PER_ENTRY);
    return inserted === 1;
  }

  /** What the claimed firing came to. */
  settle(firing: Firing): void {
    this.db
      .prepare('UPDATE schedule_firings SET outcome = ?, job_id = ?, detail = ?, recorded_at = ? WHERE entry = ? AND firing_at = ?')
      .run(firing.outcome, firing.jobId ?? null, firing.detail, this.now(), firing.entry, firing.at);
  }

  /** The latest firing of `entry`, if it ever fired. */
  last(entry: string): Firing | undefined {
    const row = this.db.prepare('SELECT * FROM schedule_firings WHERE entry = ? ORDER BY firing_at DESC, id DESC LIMIT 1').get(entry) as FiringRow | undefined;
    return row && toFiring(row);
  }

  /** Every firing of `entry`, newest first. */
  list(entry: string): Firing[] {
    return (this.db.prepare('SELECT * FROM schedule_firings WHERE entry = ? ORDER BY firing_at DESC, id DESC').all(entry) as FiringRow[]).map(toFiring);
  }
}

function toFiring(row: FiringRow): Firing {
  return {
    entry: row.entry,
    at: row.firing_at,
    outcome: row.outcome,
    ...(row.job_id === null ? {} : { jobId: row.job_id }),
    detail: row.detail,
  };
}
