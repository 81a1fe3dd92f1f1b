/** How many refusals of one kind are logged one by one per window. */
export interface RefusalLogLimit {
  /** @default 20 */
  lines: number;
  /** @default 60 s */
  windowMs: number;
}

export const REFUSAL_LOG_DEFAULTS: RefusalLogLimit = { lines: 20, windowMs: 60_000 };

/**
 * The daemon's refusal log, bounded: a flood of bad sign-ins, tokens or sockets (anyone who can
 * reach the port can send one) writes at most `lines` lines per kind (`where`) per window, then
 * one line that counts the rest at the window's end.
 */
export function limitRefusalLog(
  log: (where: string, reason: string) => void,
  limit: RefusalLogLimit = REFUSAL_LOG_DEFAULTS,
): (where: string, reason: string) => void {
  const windows = new Map<string, { logged: number; skipped: number }>();
  return (where, reason) => {
    let window = windows.get(where);
    if (!window) {
      window = { logged: 0, skipped: 0 };
      windows.set(where, window);
      const counted = window;
      setTimeout(() => {
        windows.delete(where);
        if (counted.skipped > 0) log(where, `… and ${counted.skipped} more refusals in the last ${describe(limit.windowMs)}`);
      }, limit.windowMs).unref();
    }
    if (window.logged < limit.lines) {
      window.logged++;
      log(where, reason);
    } else window.skipped++;
  };
}

function describe(ms: number): string {
  return ms === 60_000 ? 'minute' : `${Math.round(ms / 1000)} s`;
}
