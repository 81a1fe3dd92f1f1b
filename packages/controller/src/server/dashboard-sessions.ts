import { createHash, randomBytes } from 'node:crypto';
import { browserName } from './browser-name.js';

/** What a dashboard session may do: everything the admin token may, or only look. */
export type DashboardRole = 'admin' | 'viewer';

export interface DashboardSession {
  id: string;
  role: DashboardRole;
  signedInAt: number;
  expiresAt: number;
  /** The browser it was signed in from, as a person names it ("Firefox 128 on Linux"). */
  browser: string;
}

/** A session as the admin sees it: a handle to revoke it by, never its id (the cookie's value). */
export interface DashboardSessionView {
  handle: string;
  role: DashboardRole;
  signedInAt: number;
  expiresAt: number;
  browser: string;
}

/** A session's public handle: the first 12 hex digits of its id's SHA-256 (the id stays a secret). */
export function handleOf(id: string): string {
  return createHash('sha256').update(id).digest('hex').slice(0, 12);
}

export interface DashboardSessionLimits {
  /** How long a sign-in link can be used (once). @default 10 min */
  linkMs: number;
  /** How long a session lasts from its sign-in. @default 12 h */
  sessionMs: number;
  /** The most live sign-in links and sessions (a flood of `plexlift dashboard` calls). @default 100 */
  max: number;
}

export const DASHBOARD_SESSION_DEFAULTS: DashboardSessionLimits = { linkMs: 10 * 60_000, sessionMs: 12 * 3_600_000, max: 100 };

/**
 * The dashboard's sign-in: `plexlift dashboard` asks for a one-time link (short-lived, single
 * use: the admin token itself never travels in a URL), and the link, once followed, becomes a
 * session the browser holds in an HttpOnly cookie. Kept in memory: a daemon restart signs
 * everyone out. The admin lists them and ends one or all (`plexlift dashboard sessions`, `revoke`).
 */
export class DashboardSessions {
  private readonly links = new Map<string, { role: DashboardRole; expiresAt: number }>();
  private readonly sessions = new Map<string, DashboardSession>();
  private readonly endListeners = new Set<(id: string) => void>();

  constructor(
    private readonly limits: DashboardSessionLimits = DASHBOARD_SESSION_DEFAULTS,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new one-time sign-in code for `role`, and when it stops working. */
  createLink(role: DashboardRole): { code: string; expiresAt: number } {
    this.sweep();
    if (this.links.size >= this.limits.max) this.links.delete(this.links.keys().next().value!);
    const code = randomBytes(32).toString('base64url');
    const expiresAt = this.now() + this.limits.linkMs;
    this.links.set(code, { role, expiresAt });
    return { code, expiresAt };
  }

  /**
   * Spends a sign-in code: a session when it is known and fresh; used or expired, nothing. The
   * browser's earlier session (`previous`, from its cookie) ends: one browser, one session.
   */
  redeem(code: string, previous?: string, userAgent?: string): DashboardSession | undefined {
    const link = this.links.get(code);
    this.links.delete(code);
    if (!link || link.expiresAt <= this.now()) return undefined;
    this.end(previous);
    this.sweep();
    if (this.sessions.size >= this.limits.max) this.end(this.sessions.keys().next().value);
    const session: DashboardSession = {
      id: randomBytes(32).toString('base64url'),
      role: link.role,
      signedInAt: this.now(),
      expiresAt: this.now() + this.limits.sessionMs,
      browser: browserName(userAgent),
    };
    this.sessions.set(session.id, session);
    // At its expiry the session ends for the sockets it opened too, not only for the next one.
    setTimeout(() => this.end(session.id), this.limits.sessionMs).unref();
    return session;
  }

  /** Called with a session's id when it ends (sign-out, expiry, eviction): its open sockets close. */
  onEnd(listener: (id: string) => void): () => void {
    this.endListeners.add(listener);
    return () => this.endListeners.delete(listener);
  }

  /** The live session of a cookie's id, if any. */
  find(id: string | undefined): DashboardSession | undefined {
    const session = id === undefined ? undefined : this.sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= this.now()) {
      this.end(session.id);
      return undefined;
    }
    return session;
  }

  /** The live sessions, the oldest sign-in first. */
  list(): DashboardSessionView[] {
    this.sweep();
    return [...this.sessions.values()].map(({ id, role, signedInAt, expiresAt, browser }) => ({ handle: handleOf(id), role, signedInAt, expiresAt, browser }));
  }

  /** Ends the session of a handle (its open pages close); false when no live session has it. */
  revoke(handle: string): boolean {
    this.sweep();
    const id = [...this.sessions.keys()].find((candidate) => handleOf(candidate) === handle);
    this.end(id);
    return id !== undefined;
  }

  /** Ends every session; how many there were. */
  revokeAll(): number {
    this.sweep();
    const ids = [...this.sessions.keys()];
    for (const id of ids) this.end(id);
    return ids.length;
  }

  end(id: string | undefined): void {
    if (id === undefined || !this.sessions.delete(id)) return;
    for (const listener of this.endListeners) listener(id);
  }

  private sweep(): void {
    const now = this.now();
    for (const [code, link] of this.links) if (link.expiresAt <= now) this.links.delete(code);
    for (const [id, session] of this.sessions) if (session.expiresAt <= now) this.end(id);
  }
}
