import type { IncomingMessage } from 'node:http';

/**
 * The close code of a dashboard socket opened by a page at an address this daemon does not know as
 * its own: the page says so instead of "signed out" (4401, AUTH_REFUSED_CLOSE_CODE).
 */
export const ORIGIN_REFUSED_CLOSE_CODE = 4403;

/** The headers a reverse proxy adds: with one, the Host header is the proxy's choice, not the page's address. */
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip', 'via'];

/**
 * The origins configured as this daemon's own (`server.publicUrl`, `server.dashboard.origins`), as
 * a browser writes them in `Origin` (`https://name:port`, no path); what is not an address is left out.
 */
export function originsOf(addresses: readonly (string | undefined)[]): Set<string> {
  const origins = new Set<string>();
  for (const address of addresses) {
    if (!address) continue;
    try {
      origins.add(new URL(address).origin);
    } catch {
      // The config's schema checked these already; a stray one is no origin.
    }
  }
  return origins;
}

/**
 * Whether a browser's request comes from this daemon's own page, by its Origin (which the browser
 * sets and no page can): one of the configured origins, one of the addresses this socket was
 * reached at (loopback, or the address it is bound to, at the port it listens on), or, on a
 * direct connection, the Host it asked for. A WebSocket carries the session cookie whatever page
 * opens it; this check is what keeps another site's page from using it (CSRF). No forwarding
 * header is trusted: any client can send one.
 *
 * Origin = Host is safe: a client can send any Host, but a page cannot set either header, so in a
 * browser they are equal only when the page came from the name the socket asks for (no page of
 * another name can claim this one). DNS rebinding (a page at attacker.example whose name then
 * points here) passes, with Origin = Host = attacker.example, but carries no session: the cookie
 * (host-only, SameSite=Strict) goes to the name it was set at, never to the attacker's, and a
 * sign-in needs a link's code. Behind a proxy the Host may be the proxy's own choice
 * (127.0.0.1:7878), so there only the configured origins and the addresses above count.
 */
export function isSameOrigin(req: IncomingMessage, configured: ReadonlySet<string> = new Set()): boolean {
  // A browser that says the request comes from this origin (Sec-Fetch-Site is set by the browser alone).
  if (req.headers['sec-fetch-site'] === 'same-origin' && req.headers.origin === undefined) return true;
  const origin = req.headers.origin;
  if (!origin) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.origin !== origin) return false; // a path, user or the like: no browser sends that
  if (configured.has(origin)) return true;
  const scheme = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  const port = req.socket.localPort;
  const bound = (req.socket.localAddress ?? '').replace(/^::ffff:/, '');
  const own = originsOf(['127.0.0.1', 'localhost', '[::1]', bound.includes(':') ? `[${bound}]` : bound].map((host) => `${scheme}://${host}:${port}`));
  if (own.has(origin)) return true;
  const direct = PROXY_HEADERS.every((name) => req.headers[name] === undefined);
  return direct && originsOf([`${scheme}://${req.headers.host ?? ''}`]).has(origin);
}
