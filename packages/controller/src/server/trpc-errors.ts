import { TRPCError } from '@trpc/server';
import { ERROR_CODES, toPlexliftError } from '@plexlift/shared';

/**
 * A PlexliftError as a tRPC error: its tRPC code from the one table, its own code and details
 * in `cause` so a client can rebuild it (and exit with the right status).
 */
export function asTrpcError(error: unknown): TRPCError {
  if (error instanceof TRPCError) return error;
  const failure = toPlexliftError(error);
  return new TRPCError({ code: ERROR_CODES[failure.code].trpc, message: failure.message, cause: failure });
}
