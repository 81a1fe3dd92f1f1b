import { describe, expect, it } from 'vitest';
import { parseDaemonUrl } from './daemon-url.js';

describe('parseDaemonUrl', () => {
  it('takes https anywhere and http to this machine only, without a trailing slash', () => {
    expect(parseDaemonUrl('https://zimaboard:7878/')).toBe('https://zimaboard:7878');
    expect(parseDaemonUrl('https://home.example/plexlift/')).toBe('https://home.example/plexlift');
    expect(parseDaemonUrl('http://127.0.0.1:7878')).toBe('http://127.0.0.1:7878');
    expect(parseDaemonUrl('http://127.1.2.3:7878')).toBe('http://127.1.2.3:7878');
    expect(parseDaemonUrl('http://localhost:7878')).toBe('http://localhost:7878');
    expect(parseDaemonUrl('http://[::1]:7878')).toBe('http://[::1]:7878');
  });

  it('refuses http elsewhere (the token in clear), other schemes, credentials and queries', () => {
    for (const url of ['http://192.168.1.10:7878', 'http://zimaboard:7878', 'http://127.0.0.1.example.com:7878', 'http://[::ffff:c0a8:10a]:7878']) {
      expect(() => parseDaemonUrl(url), url).toThrow(/is not this machine: the admin token would cross the network in clear/);
    }
    expect(() => parseDaemonUrl('ftp://zimaboard')).toThrow(/ftp: is not http\(s\)/);
    expect(() => parseDaemonUrl('zimaboard:7878')).toThrow(/is not http\(s\)|is not a URL/);
    expect(() => parseDaemonUrl('https://admin:s3cret@zimaboard:7878')).toThrow(/no user or password in it/);
    expect(() => parseDaemonUrl('https://zimaboard:7878/?token=x')).toThrow(/no query or fragment/);
  });
});
