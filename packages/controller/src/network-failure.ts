/** What the system calls of a failed connection mean, as people say it. */
const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'name lookup failed',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed',
  EPROTO: 'TLS handshake failed',
};

/**
 * Why a connection failed, in words ("connection refused"), from the first error in `error`'s
 * cause chain that carries a known system code; else the deepest cause's message (fetch's own
 * says only "fetch failed").
 */
export function describeNetworkFailure(error: unknown): string {
  let deepest = error;
  for (let cause: unknown = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code && REASONS[code]) return REASONS[code];
    // AggregateError (happy eyeballs: one failure per address): the first says it.
    if (cause instanceof AggregateError && cause.errors[0] instanceof Error) return describeNetworkFailure(cause.errors[0]);
    deepest = cause;
  }
  return deepest instanceof Error ? deepest.message : String(deepest);
}
