import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PlexTvSimOptions {
  /** The owner's account token (what `PlexOnlineToken` holds on the home server). */
  accountToken: string;
  username?: string;
  /** Plex Pass: Sonic analysis needs it. */
  subscriptionActive?: boolean;
  /** How long a claim token lives (plex.tv: about 4 minutes). */
  claimTtlMs?: number;
}

export interface PlexTvSim extends AsyncDisposable {
  url: string;
  /** Server tokens handed out by claim exchanges. */
  serverTokens: string[];
  /** Claim tokens minted so far, in order (each mint is a claim someone could use). */
  mintedClaims: string[];
  close(): Promise<void>;
}

/**
 * The slice of plex.tv plexlift depends on (plex-api.md §1.4): minting a claim token with the
 * owner's account token (`GET /api/claim/token.json` → `{"token":"claim-…"}`), its single-use,
 * short-lived exchange by a starting server (`POST /api/claim/exchange?token=`), and the
 * account with its subscription (`GET /api/v2/user`).
 */
export async function startPlexTvSim(options: PlexTvSimOptions): Promise<PlexTvSim> {
  const claims = new Map<string, number>();
  const serverTokens: string[] = [];
  const mintedClaims: string[] = [];
  const ttl = options.claimTtlMs ?? 4 * 60_000;
  const username = options.username ?? 'owner';
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const token = (req.headers['x-plex-token'] as string | undefined) ?? url.searchParams.get('X-Plex-Token');
    const send = (status: number, type: string, body: string) => {
      res.statusCode = status;
      if (body) res.setHeader('Content-Type', type);
      res.end(body);
    };
    if (req.method === 'GET' && url.pathname === '/api/claim/token.json') {
      if (token !== options.accountToken) return send(401, 'application/json', '{"error":"Invalid token"}');
      const claim = `claim-${randomBytes(10).toString('base64url')}`;
      claims.set(claim, Date.now() + ttl);
      mintedClaims.push(claim);
      return send(200, 'application/json', JSON.stringify({ token: claim }));
    }
    if (req.method === 'POST' && url.pathname === '/api/claim/exchange') {
      const claim = url.searchParams.get('token') ?? '';
      const expires = claims.get(claim);
      claims.delete(claim); // single use
      if (expires === undefined || expires < Date.now())
        return send(404, 'text/xml', '<?xml version="1.0" encoding="UTF-8"?>\n<errors><error>Claim token invalid or expired</error></errors>\n');
      const serverToken = randomBytes(15).toString('base64url');
      serverTokens.push(serverToken);
      return send(
        200,
        'text/xml',
        `<?xml version="1.0" encoding="UTF-8"?>\n<user email="${username}@example.invalid" id="1" uuid="1a2b3c" username="${username}"><authentication-token>${serverToken}</authentication-token></user>\n`,
      );
    }
    if (req.method === 'GET' && url.pathname === '/api/v2/user') {
      if (token !== options.accountToken && !serverTokens.includes(token ?? ''))
        return send(401, 'application/json', '{"errors":[{"code":1001,"message":"User could not be authenticated"}]}');
      return send(
        200,
        'application/json',
        JSON.stringify({
          id: 1,
          uuid: '1a2b3c',
          username,
          email: `${username}@example.invalid`,
          subscription: { active: options.subscriptionActive ?? true, status: options.subscriptionActive === false ? 'Inactive' : 'Active', plan: 'lifetime' },
        }),
      );
    }
    send(404, 'text/plain', 'Not Found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return { url: `http://127.0.0.1:${port}`, serverTokens, mintedClaims, close, [Symbol.asyncDispose]: close };
}
