import { describe, expect, it } from 'vitest';
import { DashboardSessions } from '../../packages/controller/src/server/dashboard-sessions.js';

describe('DashboardSessions', () => {
  it('a sign-in link works once and only until it expires; a session ends at its expiry or on sign-out', () => {
    let now = 1_000_000;
    const sessions = new DashboardSessions({ linkMs: 60_000, sessionMs: 3_600_000, max: 100 }, () => now);
    const { code, expiresAt } = sessions.createLink('viewer');
    expect(expiresAt).toBe(now + 60_000);
    expect(code).toMatch(/^[\w-]{43}$/); // 32 random bytes
    const session = sessions.redeem(code)!;
    expect(session).toMatchObject({ role: 'viewer', expiresAt: now + 3_600_000 });
    expect(sessions.redeem(code)).toBeUndefined();

    const late = sessions.createLink('admin');
    now += 60_000;
    expect(sessions.redeem(late.code)).toBeUndefined();

    expect(sessions.find(session.id)).toEqual(session);
    now = session.expiresAt;
    expect(sessions.find(session.id)).toBeUndefined();

    const other = sessions.redeem(sessions.createLink('admin').code)!;
    sessions.end(other.id);
    expect(sessions.find(other.id)).toBeUndefined();
    expect(sessions.find(undefined)).toBeUndefined();
  });

  it('holds a bounded number of links and sessions: a flood drops the oldest', () => {
    const sessions = new DashboardSessions({ linkMs: 60_000, sessionMs: 3_600_000, max: 3 });
    const codes = Array.from({ length: 5 }, () => sessions.createLink('admin').code);
    expect(sessions.redeem(codes[0]!)).toBeUndefined();
    expect(sessions.redeem(codes[4]!)).toBeDefined();
  });
});
