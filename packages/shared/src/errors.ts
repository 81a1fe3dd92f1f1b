/**
 * Every error plexlift expects to meet, in one table: its process exit status (DESIGN.md,
 * "Exit codes") and the tRPC code it travels as. Messages name the field or file, what was
 * found and what to do; they never carry a secret.
 */
export const EXIT_CODES = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  databaseCorrupt: 3,
  jobFailed: 4,
  jobAborted: 5,
  safetyStop: 6,
  authRefused: 7,
  controllerUnreachable: 8,
  badConfig: 78,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** The subset of tRPC error code keys plexlift maps to (kept here so `shared` needs no tRPC). */
export type TrpcErrorCodeKey = 'BAD_REQUEST' | 'UNAUTHORIZED' | 'FORBIDDEN' | 'NOT_FOUND' | 'CONFLICT' | 'PRECONDITION_FAILED' | 'INTERNAL_SERVER_ERROR';

export const ERROR_CODES = {
  /** A command-line argument or API input is malformed. */
  BAD_ARGUMENT: { exit: EXIT_CODES.usage, trpc: 'BAD_REQUEST' },
  /** A path given by the user does not exist or is not what it should be. */
  PATH_INVALID: { exit: EXIT_CODES.usage, trpc: 'BAD_REQUEST' },
  /** A path mapping (`from=to`) is malformed, overlaps or chains into another. */
  MAPPING_INVALID: { exit: EXIT_CODES.usage, trpc: 'BAD_REQUEST' },
  /** The configuration file or an environment override is invalid. */
  CONFIG_INVALID: { exit: EXIT_CODES.badConfig, trpc: 'BAD_REQUEST' },
  /** The file is not a SQLite database, or its B-trees are damaged. */
  DATABASE_CORRUPT: { exit: EXIT_CODES.databaseCorrupt, trpc: 'PRECONDITION_FAILED' },
  /** Another process (normally Plex Media Server) holds the database: writing would corrupt it. */
  DATABASE_IN_USE: { exit: EXIT_CODES.safetyStop, trpc: 'CONFLICT' },
  /** A write was refused because it would break a safety rule (integrity, leftovers, caps). */
  SAFETY_STOP: { exit: EXIT_CODES.safetyStop, trpc: 'PRECONDITION_FAILED' },
  /** No SQLite shell able to `.recover` was found. */
  RECOVERY_ENGINE_UNAVAILABLE: { exit: EXIT_CODES.badConfig, trpc: 'PRECONDITION_FAILED' },
  /** Recovery ran but produced no database that passes the integrity check. */
  REPAIR_FAILED: { exit: EXIT_CODES.databaseCorrupt, trpc: 'INTERNAL_SERVER_ERROR' },
  /** Not enough free disk space for the operation. */
  DISK_FULL: { exit: EXIT_CODES.safetyStop, trpc: 'PRECONDITION_FAILED' },
  /** Plex Media Server answered with an unexpected status or shape. */
  PLEX_API_ERROR: { exit: EXIT_CODES.jobFailed, trpc: 'INTERNAL_SERVER_ERROR' },
  /** Plex Media Server refused the token (HTTP 401). */
  PLEX_UNAUTHORIZED: { exit: EXIT_CODES.authRefused, trpc: 'UNAUTHORIZED' },
  /** Plex Media Server did not become ready, or did not answer, in time. */
  PLEX_NOT_READY: { exit: EXIT_CODES.jobFailed, trpc: 'PRECONDITION_FAILED' },
  /** A wait ran past its safety timeout. */
  PHASE_TIMEOUT: { exit: EXIT_CODES.jobFailed, trpc: 'INTERNAL_SERVER_ERROR' },
  /** The controller refused the agent's token: retrying cannot help. */
  AUTH_REFUSED: { exit: EXIT_CODES.authRefused, trpc: 'UNAUTHORIZED' },
  /** Agent and controller speak different protocol versions. */
  PROTOCOL_MISMATCH: { exit: EXIT_CODES.badConfig, trpc: 'PRECONDITION_FAILED' },
  /** The controller could not be reached. */
  CONTROLLER_UNREACHABLE: { exit: EXIT_CODES.controllerUnreachable, trpc: 'INTERNAL_SERVER_ERROR' },
  /** The cloud refused or failed a call (quota, stock, outage): the message says which and what to do. */
  CLOUD_ERROR: { exit: EXIT_CODES.jobFailed, trpc: 'INTERNAL_SERVER_ERROR' },
  /** The job was aborted on request (`plexlift abort`, Ctrl-C, a signal). */
  JOB_ABORTED: { exit: EXIT_CODES.jobAborted, trpc: 'CONFLICT' },
  /** Anything not foreseen. */
  UNEXPECTED: { exit: EXIT_CODES.unexpected, trpc: 'INTERNAL_SERVER_ERROR' },
} as const satisfies Record<string, { exit: ExitCode; trpc: TrpcErrorCodeKey }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Whether `value` (a code read back from the store or the wire) is one of the table's. */
export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}

/** The process exit status of an error code: the table's, the one place a status is decided. */
export function exitStatusOf(code: ErrorCode): ExitCode {
  return ERROR_CODES[code].exit;
}

export class PlexliftError extends Error {
  override readonly name = 'PlexliftError';
  readonly code: ErrorCode;
  /** Machine-readable facts for `--json` output and events (never secrets). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }

  get exitCode(): ExitCode {
    return exitStatusOf(this.code);
  }
}

export function isPlexliftError(error: unknown, code?: ErrorCode): error is PlexliftError {
  return error instanceof PlexliftError && (code === undefined || error.code === code);
}

/** Normalises anything thrown into a PlexliftError, keeping the original as `cause`. */
export function toPlexliftError(error: unknown): PlexliftError {
  if (error instanceof PlexliftError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new PlexliftError('UNEXPECTED', message, { cause: error });
}
