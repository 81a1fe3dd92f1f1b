import { FINAL_STATES, JobReportSchema, PlexliftError, type JobReport, type JobRunOptions, type JobState } from '@plexlift/shared';
import type { AgentCommand, AgentEvent, JobSpec, PhaseName } from '@plexlift/shared/protocol';
import type { StoreDatabase } from './schema.js';

/** FINAL_STATES as an SQL list, for the queries below. */
const FINAL_STATES_SQL = FINAL_STATES.map((state) => `'${state}'`).join(', ');

/** The moves a job may make; anything else is a bug, refused by `transition`. */
const ALLOWED: Record<JobState, readonly JobState[]> = {
  queued: ['provisioning', 'tearing-down', 'failed', 'aborted'],
  provisioning: ['running', 'tearing-down', 'failed', 'aborted'],
  running: ['verified', 'tearing-down', 'failed', 'aborted'],
  verified: ['installing', 'done', 'failed', 'aborted'],
  installing: ['done', 'failed'],
  'tearing-down': ['failed', 'aborted'],
  done: [],
  // Another try at the install of a verified archive home kept (`plexlift install JOB`).
  failed: ['installing'],
  aborted: [],
};

/** How the user asked for the job to run, beside the spec the agent gets. */
export type JobOptions = JobRunOptions;

/** What a move of state may record with it. */
export interface StateChanges {
  error?: { code: string; message: string };
  report?: JobReport;
}

export interface JobRecord {
  id: string;
  library: string;
  state: JobState;
  phase: PhaseName | undefined;
  version: number;
  provider: string;
  spec: JobSpec;
  options: JobOptions;
  /** The provider's handle on what it created (recorded before it is created). */
  resource: Record<string, unknown> | undefined;
  error: { code: string; message: string } | undefined;
  report: JobReport | undefined;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | undefined;
}

export interface StoredEvent {
  id: number;
  jobId: string;
  at: number;
  event: AgentEvent;
}

interface JobRow {
  id: string;
  library: string;
  state: JobState;
  phase: PhaseName | null;
  version: number;
  provider: string;
  spec_json: string;
  options_json: string;
  resource_json: string | null;
  error_code: string | null;
  error_message: string | null;
  report_json: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

/**
 * Jobs, their phases, their events and the commands waiting for their agent. Every state change
 * is a compare-and-set on `version` inside one short transaction with the event that explains it,
 * so two writers can never both move a job.
 */
export class JobStore {
  constructor(
    private readonly db: StoreDatabase,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a new job; a second live job for the same library is refused (safety rule 7). */
  create(input: { id: string; library: string; provider: string; spec: JobSpec; options: JobOptions }): JobRecord {
    const at = this.now();
    try {
      this.db
        .prepare(
          `INSERT INTO jobs (id, library, state, provider, spec_json, options_json, created_at, updated_at)
           VALUES (@id, @library, 'queued', @provider, @spec, @options, @at, @at)`,
        )
        .run({ id: input.id, library: input.library, provider: input.provider, spec: JSON.stringify(input.spec), options: JSON.stringify(input.options), at });
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        const live = this.live().find((job) => job.library === input.library);
        throw new PlexliftError(
          'SAFETY_STOP',
          `job ${live?.id ?? '?'} is still ${live?.state ?? 'running'} on this library; one job at a time (wait for it or abort it)`,
          {
            details: { running: live?.id },
          },
        );
      }
      throw error;
    }
    return this.get(input.id)!;
  }

  get(id: string): JobRecord | undefined {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    return row && toRecord(row);
  }

  /** Every job, newest first. */
  list(options: { limit?: number } = {}): JobRecord[] {
    return (this.db.prepare('SELECT * FROM jobs ORDER BY created_at DESC, rowid DESC LIMIT ?').all(options.limit ?? 100) as JobRow[]).map(toRecord);
  }

  /** Jobs not in a final state: what a restarted controller resumes. */
  live(): JobRecord[] {
    return (this.db.prepare(`SELECT * FROM jobs WHERE state NOT IN (${FINAL_STATES_SQL}) ORDER BY created_at`).all() as JobRow[]).map(toRecord);
  }

  /**
   * Moves a job from `from` to `to` if nobody moved it since `version` was read; returns the new
   * record, or undefined when it lost the race.
   */
  transition(job: Pick<JobRecord, 'id' | 'version'>, from: JobState, to: JobState, changes: StateChanges = {}): JobRecord | undefined {
    if (!ALLOWED[from].includes(to)) throw new PlexliftError('UNEXPECTED', `job ${job.id}: ${from} → ${to} is not a valid move`);
    const at = this.now();
    const result = this.db
      .prepare(
        `UPDATE jobs SET state = @to, version = version + 1, updated_at = @at,
                error_code = CASE WHEN @to IN ('done', 'installing') THEN NULL ELSE coalesce(@errorCode, error_code) END,
                error_message = CASE WHEN @to IN ('done', 'installing') THEN NULL ELSE coalesce(@errorMessage, error_message) END,
                report_json = coalesce(@report, report_json),
                finished_at = CASE WHEN @to IN (${FINAL_STATES_SQL}) THEN @at ELSE NULL END
          WHERE id = @id AND state = @from AND version = @version`,
      )
      .run({
        id: job.id,
        from,
        to,
        version: job.version,
        at,
        errorCode: changes.error?.code ?? null,
        errorMessage: changes.error?.message ?? null,
        report: changes.report ? JSON.stringify(changes.report) : null,
      });
    return result.changes === 1 ? this.get(job.id) : undefined;
  }

  /** Records what the provider is about to create, before it exists (so it can always be reaped). */
  setResource(id: string, resource: Record<string, unknown> | undefined): void {
    this.db.prepare('UPDATE jobs SET resource_json = ?, updated_at = ? WHERE id = ?').run(resource ? JSON.stringify(resource) : null, this.now(), id);
  }

  setReport(id: string, report: JobReport): void {
    this.db.prepare('UPDATE jobs SET report_json = ?, updated_at = ? WHERE id = ?').run(JSON.stringify(report), this.now(), id);
  }

  /**
   * Stores an event once per key (`jobId:seq` from the agent, `controller:…` for ours) and
   * applies what it says to the phase table, in one transaction. Returns undefined for a replay.
   */
  appendEvent(jobId: string, key: string, event: AgentEvent): StoredEvent | undefined {
    const at = this.now();
    return this.db.transaction(() => {
      const inserted = this.db
        .prepare('INSERT INTO events (job_id, key, at, type, payload_json) VALUES (?, ?, ?, ?, ?) ON CONFLICT (job_id, key) DO NOTHING')
        .run(jobId, key, at, event.type, JSON.stringify(event));
      if (inserted.changes === 0) return undefined;
      this.applyToPhases(jobId, event, at);
      return { id: Number(inserted.lastInsertRowid), jobId, at, event };
    })();
  }

  /** How many events the job's agent has stored (its keys start with `jobId:`) and their JSON's bytes. */
  agentEventUsage(jobId: string): { events: number; bytes: number } {
    const row = this.db
      .prepare(
        'SELECT count(*) AS events, coalesce(sum(length(CAST(payload_json AS BLOB))), 0) AS bytes FROM events WHERE job_id = ? AND substr(key, 1, ?) = ?',
      )
      .get(jobId, jobId.length + 1, `${jobId}:`) as { events: number; bytes: number };
    return { events: row.events, bytes: row.bytes };
  }

  /** Events of a job after `afterId` (the `tracked()` id), in order. */
  events(
    jobId: string,
    options: { afterId?: number; types?: AgentEvent['type'][]; limit?: number; sinceAt?: number; withoutCpu?: boolean; last?: boolean } = {},
  ): StoredEvent[] {
    // `last`: the newest `limit` events (still returned oldest first), as `tail` shows them.
    const cpu = options.withoutCpu ? ` AND json_extract(payload_json, '$.type') <> 'cpu:sample'` : '';
    const selected = `SELECT id, job_id AS jobId, at, payload_json AS payload FROM events WHERE job_id = ? AND id > ? AND at >= ?${cpu} ORDER BY id ${options.last ? 'DESC' : ''} LIMIT ?`;
    const rows = this.db
      .prepare(options.last ? `SELECT * FROM (${selected}) ORDER BY id` : selected)
      .all(jobId, options.afterId ?? 0, options.sinceAt ?? 0, options.limit ?? 100_000) as { id: number; jobId: string; at: number; payload: string }[];
    const events = rows.map((row) => ({ id: row.id, jobId: row.jobId, at: row.at, event: JSON.parse(row.payload) as AgentEvent }));
    return options.types ? events.filter((e) => options.types!.includes(e.event.type)) : events;
  }

  /** The newest event of a type (the last progress said: what a teardown waits for). */
  lastEvent(jobId: string, type: AgentEvent['type']): StoredEvent | undefined {
    const row = this.db
      .prepare('SELECT id, job_id AS jobId, at, payload_json AS payload FROM events WHERE job_id = ? AND type = ? ORDER BY id DESC LIMIT 1')
      .get(jobId, type) as { id: number; jobId: string; at: number; payload: string } | undefined;
    return row && { id: row.id, jobId: row.jobId, at: row.at, event: JSON.parse(row.payload) as AgentEvent };
  }

  phases(
    jobId: string,
  ): { phase: PhaseName; state: string; startedAt: number | undefined; finishedAt: number | undefined; summary: Record<string, unknown> | undefined }[] {
    const rows = this.db.prepare('SELECT phase, state, started_at, finished_at, summary_json FROM phases WHERE job_id = ? ORDER BY rowid').all(jobId) as {
      phase: PhaseName;
      state: string;
      started_at: number | null;
      finished_at: number | null;
      summary_json: string | null;
    }[];
    return rows.map((r) => ({
      phase: r.phase,
      state: r.state,
      startedAt: r.started_at ?? undefined,
      finishedAt: r.finished_at ?? undefined,
      summary: r.summary_json ? (JSON.parse(r.summary_json) as Record<string, unknown>) : undefined,
    }));
  }

  /** Queues a desired state for the job's agent; the id is its `tracked()` id. */
  pushCommand(jobId: string, command: AgentCommand): number {
    return Number(
      this.db.prepare('INSERT INTO commands (job_id, payload_json, created_at) VALUES (?, ?, ?)').run(jobId, JSON.stringify(command), this.now())
        .lastInsertRowid,
    );
  }

  commands(jobId: string, afterId: number): { id: number; command: AgentCommand }[] {
    return (
      this.db.prepare('SELECT id, payload_json AS payload FROM commands WHERE job_id = ? AND id > ? ORDER BY id').all(jobId, afterId) as {
        id: number;
        payload: string;
      }[]
    ).map((row) => ({
      id: row.id,
      command: JSON.parse(row.payload) as AgentCommand,
    }));
  }

  /** Deletes finished jobs older than `maxAgeMs` with everything they own. */
  prune(maxAgeMs: number): number {
    return this.db.prepare(`DELETE FROM jobs WHERE state IN (${FINAL_STATES_SQL}) AND finished_at < ?`).run(this.now() - maxAgeMs).changes;
  }

  private applyToPhases(jobId: string, event: AgentEvent, at: number): void {
    if (event.type === 'phase:start') {
      this.db
        .prepare(
          `INSERT INTO phases (job_id, phase, state, started_at) VALUES (?, ?, 'running', ?) ON CONFLICT (job_id, phase) DO UPDATE SET state = 'running', started_at = excluded.started_at`,
        )
        .run(jobId, event.phase, at);
      this.db.prepare('UPDATE jobs SET phase = ?, updated_at = ? WHERE id = ?').run(event.phase, at, jobId);
    } else if (event.type === 'phase:complete' || event.type === 'phase:fail') {
      const state = event.type === 'phase:fail' ? 'failed' : event.summary.skipped === true ? 'skipped' : 'done';
      const summary = event.type === 'phase:fail' ? { code: event.code, message: event.message } : event.summary;
      this.db
        .prepare(
          `INSERT INTO phases (job_id, phase, state, finished_at, summary_json) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (job_id, phase) DO UPDATE SET state = excluded.state, finished_at = excluded.finished_at, summary_json = excluded.summary_json`,
        )
        .run(jobId, event.phase, state, at, JSON.stringify(summary));
    }
  }
}

function toRecord(row: JobRow): JobRecord {
  return {
    id: row.id,
    library: row.library,
    state: row.state,
    phase: row.phase ?? undefined,
    version: row.version,
    provider: row.provider,
    spec: JSON.parse(row.spec_json) as JobSpec,
    options: JSON.parse(row.options_json) as JobOptions,
    resource: row.resource_json ? (JSON.parse(row.resource_json) as Record<string, unknown>) : undefined,
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? '' } : undefined,
    report: row.report_json ? readReport(row.report_json) : undefined,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at ?? undefined,
  };
}

/** A stored report as its schema says; one that does not fit is left out rather than making the job unreadable. */
function readReport(json: string): JobReport | undefined {
  const parsed = JobReportSchema.safeParse(JSON.parse(json));
  return parsed.success ? parsed.data : undefined;
}
