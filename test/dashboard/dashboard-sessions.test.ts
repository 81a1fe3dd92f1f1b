import { describe, expect, it } from 'vitest';
import { browserName } from '../../packages/controller/src/server/browser-name.js';
import { DashboardSessions, handleOf } from '../../packages/controller/src/server/dashboard-sessions.js';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

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

  it('lists the sessions for the admin by a handle that is not the cookie, and revokes one or all (their sockets are told)', () => {
    let now = 1_000_000;
    const sessions = new DashboardSessions({ linkMs: 60_000, sessionMs: 3_600_000, max: 100 }, () => now);
    const ended: string[] = [];
    sessions.onEnd((id) => ended.push(id));
    const first = sessions.redeem(sessions.createLink('admin').code, undefined, FIREFOX)!;
    now += 1_000;
    const second = sessions.redeem(sessions.createLink('viewer').code, undefined, IPHONE)!;
    const listed = sessions.list();
    expect(listed).toEqual([
      { handle: handleOf(first.id), role: 'admin', signedInAt: 1_000_000, expiresAt: 1_000_000 + 3_600_000, browser: 'Firefox 128 on Linux' },
      { handle: handleOf(second.id), role: 'viewer', signedInAt: 1_001_000, expiresAt: 1_001_000 + 3_600_000, browser: 'Safari 17 on iPhone' },
    ]);
    expect(listed[0]!.handle).toMatch(/^[0-9a-f]{12}$/);
    // Nothing listed lets anyone forge the cookie.
    expect(JSON.stringify(listed)).not.toContain(first.id);
    expect(JSON.stringify(listed)).not.toContain(second.id);

    expect(sessions.revoke('0123456789ab')).toBe(false);
    expect(sessions.list()).toHaveLength(2);
    expect(sessions.revoke(handleOf(first.id))).toBe(true);
    expect(ended).toEqual([first.id]);
    expect(sessions.find(first.id)).toBeUndefined();
    expect(sessions.find(second.id)).toBeDefined();
    expect(sessions.revokeAll()).toBe(1);
    expect(ended).toEqual([first.id, second.id]);
    expect(sessions.list()).toEqual([]);
  });

  it("names a browser by its User-Agent's names only: the header is the caller's text", () => {
    expect(browserName('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36')).toBe(
      'Chrome 131 on Linux',
    );
    expect(
      browserName('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86'),
    ).toBe('Edge 131 on Windows');
    expect(browserName('Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36')).toBe(
      'Chrome 131 on Android',
    );
    expect(browserName('\u001b]0;owned\u0007 curl/8.5')).toBe('unknown browser');
    expect(browserName(undefined)).toBe('unknown browser');
  });
});
