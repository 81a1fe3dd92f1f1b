export type LogLevel = 'info' | 'warn' | 'error';

/**
 * The daemon's log: one line per message, `level: [scope] message`, on stderr (journald keeps
 * it). A scope (`job job-…`, `reaper`) says whose line it is, so callers never repeat it.
 */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** The same log with `scope` before every message (scopes nest: `job X: install:`). */
  child(scope: string): Logger;
}

export function createLogger(write: (level: LogLevel, line: string) => void, scope?: string): Logger {
  const line = (message: string) => (scope ? `${scope}: ${message}` : message);
  return {
    info: (message) => write('info', line(message)),
    warn: (message) => write('warn', line(message)),
    error: (message) => write('error', line(message)),
    child: (inner) => createLogger(write, scope ? `${scope}: ${inner}` : inner),
  };
}

/** What `plexlift serve` logs to. */
export const stderrLogger = (): Logger => createLogger((level, line) => process.stderr.write(`${level}: ${line}\n`));
