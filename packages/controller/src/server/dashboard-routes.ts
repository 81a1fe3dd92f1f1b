import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DashboardSessions } from './dashboard-sessions.js';

/** The session cookie: HttpOnly (no script reads it), Secure, SameSite=Strict (never sent from another site). */
export const SESSION_COOKIE = 'plexlift_session';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * What every page answer carries: nothing but this origin may run or load anything (no CDN, no
 * inline script), no other site may frame it, and no address leaves it in a Referer.
 */
const PAGE_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

/**
 * Where `npm run build` puts the dashboard page (`packages/controller/dashboard`, from the sources
 * as from the build: both sit two folders below), or `PLEXLIFT_DASHBOARD_DIR` (the container image).
 */
export function dashboardBundleDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.PLEXLIFT_DASHBOARD_DIR ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dashboard');
}

/** The session id a request's cookie names, if any. */
export function sessionIdOf(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === SESSION_COOKIE) return value.join('=');
  }
  return undefined;
}

/**
 * Whether a browser's request comes from this daemon's own page: its Origin is this host (as the
 * browser or a reverse proxy in front names it). A WebSocket carries the session cookie whatever
 * page opens it; this check is what keeps another site's page from using it (CSRF).
 */
export function isSameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin) return false;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  const forwarded = req.headers['x-forwarded-host'];
  const names = [req.headers.host, ...(Array.isArray(forwarded) ? forwarded : forwarded ? forwarded.split(',') : [])].map((name) => name?.trim());
  return names.includes(host);
}

/**
 * The dashboard's plain-HTTP routes: the page and its assets (the bundle's files only, read once),
 * `/signin?code=` (a one-time link into a session cookie, then straight to the page, so the code
 * leaves the address bar) and `POST /signout`.
 */
export function createDashboardHandler(options: { sessions: DashboardSessions; bundleDir?: string; onRefused?: (where: string, reason: string) => void }) {
  const bundleDir = options.bundleDir ?? dashboardBundleDir();
  // A fixed set of files, read at start: no request path ever reaches the file system.
  const files = new Map<string, { type: string; body: Buffer }>();
  if (existsSync(bundleDir))
    for (const name of readdirSync(bundleDir)) {
      const type = TYPES[name.slice(name.lastIndexOf('.'))];
      if (type) files.set(name === 'index.html' ? '/' : `/assets/${name}`, { type, body: readFileSync(join(bundleDir, name)) });
    }

  const text = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...PAGE_HEADERS, ...headers });
    res.end(`${body}\n`);
  };

  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (path === '/signin') {
      if (req.method !== 'GET') return (text(res, 405, 'GET only'), true);
      const session = options.sessions.redeem(url.searchParams.get('code') ?? '');
      if (!session) {
        options.onRefused?.('dashboard', 'a used, expired or unknown sign-in link');
        return (text(res, 401, 'This sign-in link was used already or has expired. Run plexlift dashboard for a new one.'), true);
      }
      const maxAge = Math.round((session.expiresAt - Date.now()) / 1000);
      res.writeHead(303, {
        Location: '/',
        'Set-Cookie': `${SESSION_COOKIE}=${session.id}; Path=/; Max-Age=${maxAge}; HttpOnly; Secure; SameSite=Strict`,
        'Cache-Control': 'no-store',
        ...PAGE_HEADERS,
      });
      res.end();
      return true;
    }
    if (path === '/signout') {
      if (req.method !== 'POST') return (text(res, 405, 'POST only'), true);
      if (!isSameOrigin(req)) return (text(res, 403, 'sign out from the dashboard itself'), true);
      options.sessions.end(sessionIdOf(req));
      return (text(res, 200, 'signed out', { 'Set-Cookie': `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict` }), true);
    }
    const file = req.method === 'GET' || req.method === 'HEAD' ? files.get(path === '/index.html' ? '/' : path) : undefined;
    if (!file) return false;
    res.writeHead(200, {
      'Content-Type': file.type,
      'Content-Length': file.body.length,
      // The page is small and changes with the daemon: always asked again (a 304 would need an ETag store).
      'Cache-Control': 'no-cache',
      ...PAGE_HEADERS,
    });
    res.end(req.method === 'HEAD' ? undefined : file.body);
    return true;
  };
}
