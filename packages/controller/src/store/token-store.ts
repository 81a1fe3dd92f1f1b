import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { StoreDatabase } from './schema.js';

/**
 * `bootstrap`: goes into the VM's user data, works once and expires within minutes; `session`:
 * what the agent gets for it; `transfer`: the job's data-plane bearer token.
 */
export type TokenKind = 'bootstrap' | 'session' | 'transfer';

export type TokenCheck = { ok: true; jobId: string; kind: TokenKind } | { ok: false; reason: 'unknown' | 'expired' | 'used' };

/**
 * Tokens are stored as sha256 hashes only: the store never holds one a reader could use.
 * 32 random bytes each, so a hash is as good as a password hash here (no guessing).
 */
export class TokenStore {
  private readonly revokeListeners = new Set<(jobId: string) => void>();

  constructor(
    private readonly db: StoreDatabase,
    private readonly now: () => number = Date.now,
  ) {}

  issue(jobId: string, kind: TokenKind, options: { ttlMs?: number } = {}): string {
    const token = `plx_${kind[0]}_${randomBytes(32).toString('base64url')}`;
    this.db
      .prepare('INSERT INTO tokens (hash, job_id, kind, expires_at) VALUES (?, ?, ?, ?)')
      .run(hashToken(token), jobId, kind, options.ttlMs === undefined ? null : this.now() + options.ttlMs);
    return token;
  }

  /** Checks a token of the given kinds without using it up. */
  check(token: string, kinds: TokenKind[]): TokenCheck {
    const row = this.db.prepare('SELECT job_id AS jobId, kind, expires_at AS expiresAt, used_at AS usedAt FROM tokens WHERE hash = ?').get(hashToken(token)) as
      { jobId: string; kind: TokenKind; expiresAt: number | null; usedAt: number | null } | undefined;
    if (!row || !kinds.includes(row.kind)) return { ok: false, reason: 'unknown' };
    if (row.usedAt !== null) return { ok: false, reason: 'used' };
    if (row.expiresAt !== null && row.expiresAt < this.now()) return { ok: false, reason: 'expired' };
    return { ok: true, jobId: row.jobId, kind: row.kind };
  }

  /** Uses a one-time token up; false when it was already used (a replay lost the race). */
  consume(token: string): boolean {
    return this.db.prepare('UPDATE tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL').run(this.now(), hashToken(token)).changes === 1;
  }

  /** Every token of a job stops working (the job ended); whoever listens closes what the tokens opened. */
  revokeJob(jobId: string): void {
    this.db.prepare('UPDATE tokens SET used_at = coalesce(used_at, ?) WHERE job_id = ?').run(this.now(), jobId);
    for (const listener of this.revokeListeners) listener(jobId);
  }

  /** Calls `listener` after each `revokeJob`; returns what stops it. */
  onRevoke(listener: (jobId: string) => void): () => void {
    this.revokeListeners.add(listener);
    return () => this.revokeListeners.delete(listener);
  }
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Compares two secrets in constant time (the admin token). */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(hashToken(given));
  const b = Buffer.from(hashToken(expected));
  return timingSafeEqual(a, b);
}
