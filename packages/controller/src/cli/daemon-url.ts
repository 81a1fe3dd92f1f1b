import { isIP } from 'node:net';
import { PlexliftError } from '@plexlift/shared';

/**
 * A daemon's address as `plexlift login` takes it: `https://`, or `http://` to this machine only,
 * since the admin token travels in every request. Returned as `scheme://host:port[/path]`, without
 * a trailing slash: as the client takes it and the profile keeps it.
 */
export function parseDaemonUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new PlexliftError('BAD_ARGUMENT', `URL: "${value}" is not a URL; give the daemon's https://HOST:PORT`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new PlexliftError('BAD_ARGUMENT', `URL: ${url.protocol} is not http(s); give the daemon's https://HOST:PORT`);
  }
  // Kept in the profile, they would be a second copy of a secret (and sent in clear by some tools).
  if (url.username || url.password)
    throw new PlexliftError('BAD_ARGUMENT', 'URL: no user or password in it; the admin token goes in --token-file or --token-stdin');
  if (url.search || url.hash) throw new PlexliftError('BAD_ARGUMENT', `URL: no query or fragment in it; give the daemon's https://HOST:PORT`);
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new PlexliftError(
      'BAD_ARGUMENT',
      `URL: http://${url.host} is not this machine: the admin token would cross the network in clear; use the daemon's https:// address`,
    );
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** This machine: `localhost`, 127.0.0.0/8 or ::1. */
function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}
