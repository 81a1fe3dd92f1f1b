import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isSameOrigin } from './dashboard-origins.js';
import type { DashboardSessions } from './dashboard-sessions.js';

/**
 * The session cookie: HttpOnly (no script reads it), Secure, SameSite=Strict (never sent from
 * another site). `__Host-`: the browser keeps it only when Secure, for Path=/ and without Domain,
 * so no sibling name (other.home.example) can set one that shadows it.
 */
export const SESSION_COOKIE = '__Host-plexlift_session';

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
  // Same-origin only: a POST of the page then carries its Origin in every browser (no-referrer
  // makes some send `Origin: null`, which the sign-out's check would refuse).
  'Referrer-Policy': 'same-origin',
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

/** Whether the browser will keep a Secure cookie from this request: HTTPS (here or at a proxy), or loopback. */
function isSecureContext(req: IncomingMessage): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted) return true;
  if (req.headers['x-forwarded-proto'] === 'https') return true;
  const host = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** Why a sign-in from a page at an unknown address is refused (another site's form, or a proxy's name not configured). */
const NOT_OWN_ADDRESS =
  'This page was opened at an address the daemon does not know as its own. Open the link plexlift dashboard printed; behind a reverse proxy, set server.publicUrl (or server.dashboard.origins) to its address. Nothing was spent.';

/** A request's Origin for the log: the caller's text, cut short. */
export function originOf(req: IncomingMessage): string {
  return (req.headers.origin ?? 'none').slice(0, 200);
}

/** The most a sign-in's body may be (a code of 43 characters and its name). */
const MAX_SIGNIN_BODY = 1024;

/**
 * The dashboard's plain-HTTP routes: the page and its assets (the bundle's files only, read once),
 * `/signin` (the link `plexlift dashboard` prints, `/signin#CODE`: the code stays in the browser,
 * out of every URL a server or a proxy logs; the page asks before it spends it, so a chat's link
 * preview spends nothing), `POST /signin` (the code into a session cookie) and `POST /signout`.
 */
export function createDashboardHandler(options: {
  sessions: DashboardSessions;
  bundleDir?: string;
  /** Where the page is reached besides this daemon's own addresses (server.publicUrl, server.dashboard.origins). */
  origins?: ReadonlySet<string>;
  onRefused?: (where: string, reason: string) => void;
}) {
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

  const signIn = (req: IncomingMessage, res: ServerResponse) => {
    if (!isSameOrigin(req, options.origins)) {
      options.onRefused?.('dashboard', `a sign-in from another origin (${originOf(req)})`);
      return text(res, 403, NOT_OWN_ADDRESS);
    }
    if (!isSecureContext(req))
      return text(
        res,
        400,
        'This address is plain HTTP: a browser keeps the session cookie only over HTTPS (server.tls, or a proxy that speaks it) or on this machine itself. Nothing was spent: open the link at the HTTPS address.',
      );
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > MAX_SIGNIN_BODY) req.destroy();
    });
    req.on('end', () => {
      const code = new URLSearchParams(body).get('code') ?? '';
      const session = options.sessions.redeem(code, sessionIdOf(req), req.headers['user-agent']);
      if (!session) {
        options.onRefused?.('dashboard', 'a used, expired or unknown sign-in link');
        return text(res, 401, 'This sign-in link was used already or has expired. Run plexlift dashboard for a new one.');
      }
      const maxAge = Math.round((session.expiresAt - Date.now()) / 1000);
      text(res, 200, 'signed in', { 'Set-Cookie': `${SESSION_COOKIE}=${session.id}; Path=/; Max-Age=${maxAge}; HttpOnly; Secure; SameSite=Strict` });
    });
  };

  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (path === '/signin' && req.method === 'POST') {
      signIn(req, res);
      return true;
    }
    if (path === '/signout') {
      if (req.method !== 'POST') return (text(res, 405, 'POST only'), true);
      if (!isSameOrigin(req, options.origins)) return (text(res, 403, 'sign out from the dashboard itself'), true);
      options.sessions.end(sessionIdOf(req));
      return (text(res, 200, 'signed out', { 'Set-Cookie': `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict` }), true);
    }
    // The page itself answers /signin: it shows the sign-in and spends the code when asked.
    const file = req.method === 'GET' || req.method === 'HEAD' ? files.get(path === '/index.html' || path === '/signin' ? '/' : path) : undefined;
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
