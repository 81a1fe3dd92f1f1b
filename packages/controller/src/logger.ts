export type LogLevel = 'info' | 'warn' | 'error';

/** One line of the daemon's log, as `--log-format json` writes it. */
export interface LogRecord {
  time: string;
  level: LogLevel;
  /** Whose line it is: `job job-…`, `reaper`, `schedule` (nested scopes joined by `: `). */
  scope?: string;
  /** The job the line is about, for a log collector to filter on. */
  jobId?: string;
  msg: string;
}

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
  /** The log of one job: its lines carry the job's id (`job X:` as text, `jobId` as JSON). */
  forJob(jobId: string): Logger;
}

export function createLogger(write: (level: LogLevel, line: string, record: LogRecord) => void, scope?: string, jobId?: string): Logger {
  const emit = (level: LogLevel, message: string) =>
    write(level, scope ? `${scope}: ${message}` : message, {
      time: new Date().toISOString(),
      level,
      ...(scope ? { scope } : {}),
      ...(jobId ? { jobId } : {}),
      msg: message,
    });
  const child = (inner: string, id = jobId) => createLogger(write, scope ? `${scope}: ${inner}` : inner, id);
  return {
    info: (message) => emit('info', message),
    warn: (message) => emit('warn', message),
    error: (message) => emit('error', message),
    child: (inner) => child(inner),
    forJob: (id) => child(`job ${id}`, id),
  };
}

export type LogFormat = 'text' | 'json';

/** What `plexlift serve` logs to: plain lines (a terminal, journald), or JSON lines for a collector. */
export const stderrLogger = (format: LogFormat = 'text'): Logger =>
  createLogger((level, line, record) => process.stderr.write(format === 'json' ? `${JSON.stringify(record)}\n` : `${level}: ${line}\n`));
