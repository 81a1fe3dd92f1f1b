import Database from 'better-sqlite3';
import { chmodSync } from 'node:fs';
import type { AgentEvent } from '@plexlift/shared/protocol';

export interface JournalEntry {
  seq: number;
  key: string;
  event: AgentEvent;
}

/**
 * The agent's local journal (SQLite, WAL, `synchronous=FULL`): every event is written here
 * before it is sent, with its idempotency key `jobId:seq`, and marked sent once home has it.
 * While home is unreachable events pile up here and the job goes on; a restarted agent resumes
 * from it, from the last command id it saw, and with the session token home gave it.
 */
export class Journal {
  private readonly db: Database.Database;

  constructor(
    path: string,
    private readonly jobId: string,
  ) {
    this.db = new Database(path);
    // It holds the session token: the agent's alone.
    chmodSync(path, 0o600);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, event TEXT NOT NULL, sent_at INTEGER);
                  CREATE TABLE IF NOT EXISTS state (name TEXT PRIMARY KEY, value TEXT NOT NULL);`);
  }

  append(event: AgentEvent): JournalEntry {
    const seq = Number(this.db.prepare(`INSERT INTO events (event) VALUES (?)`).run(JSON.stringify(event)).lastInsertRowid);
    return { seq, key: `${this.jobId}:${seq}`, event };
  }

  unsent(limit = 500): JournalEntry[] {
    return (this.db.prepare(`SELECT seq, event FROM events WHERE sent_at IS NULL ORDER BY seq LIMIT ?`).all(limit) as { seq: number; event: string }[]).map(
      (row) => ({
        seq: row.seq,
        key: `${this.jobId}:${row.seq}`,
        event: JSON.parse(row.event) as AgentEvent,
      }),
    );
  }

  markSent(seq: number): void {
    this.db.prepare(`UPDATE events SET sent_at = ? WHERE seq = ?`).run(Date.now(), seq);
  }

  pendingCount(): number {
    return this.db.prepare(`SELECT count(*) FROM events WHERE sent_at IS NULL`).pluck().get() as number;
  }

  get lastCommandId(): string | undefined {
    return (this.db.prepare(`SELECT value FROM state WHERE name = 'lastCommandId'`).pluck().get() as string | undefined) ?? undefined;
  }

  set lastCommandId(id: string | undefined) {
    if (id === undefined) this.db.prepare(`DELETE FROM state WHERE name = 'lastCommandId'`).run();
    else this.db.prepare(`INSERT INTO state (name, value) VALUES ('lastCommandId', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value`).run(id);
  }

  /** What home gave for the bootstrap token: a restarted agent reconnects with it. */
  get sessionToken(): string | undefined {
    return (this.db.prepare(`SELECT value FROM state WHERE name = 'sessionToken'`).pluck().get() as string | undefined) ?? undefined;
  }

  set sessionToken(token: string | undefined) {
    if (token === undefined) this.db.prepare(`DELETE FROM state WHERE name = 'sessionToken'`).run();
    else this.db.prepare(`INSERT INTO state (name, value) VALUES ('sessionToken', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value`).run(token);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
