import type { IncomingHttpHeaders } from 'node:http';

/** The header that carries a token over HTTP: the CLI's admin calls, the agent's chunks and bundle. */
export function bearerHeader(token: string): { Authorization: string } {
  return { Authorization: `Bearer ${token}` };
}

/** The token of an `Authorization: Bearer …` header, or undefined. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  return /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
}
