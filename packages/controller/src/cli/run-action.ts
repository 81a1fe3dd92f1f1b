import { exitStatusOf, isPlexliftError } from '@plexlift/shared';
import type { Output } from './output.js';

/**
 * Runs a command's action and turns its outcome into an exit status: a known error prints one
 * line and exits with its code's status in ERROR_CODES; anything else prints one line too (its
 * stack only with PLEXLIFT_DEBUG=1) and exits with UNEXPECTED's. Always via `process.exitCode`,
 * never a mid-flight `process.exit()`, so open files close cleanly.
 */
export async function runAction(output: Output, action: () => Promise<number | void> | number | void): Promise<void> {
  try {
    const code = await action();
    if (typeof code === 'number') process.exitCode = code;
  } catch (error) {
    if (isPlexliftError(error)) {
      if (output.json) output.printJson({ error: { code: error.code, message: error.message, details: error.details ?? {} } });
      output.error(error.message);
      process.exitCode = error.exitCode;
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    if (output.json) output.printJson({ error: { code: 'UNEXPECTED', message, details: {} } });
    output.error(
      process.env.PLEXLIFT_DEBUG && error instanceof Error && error.stack
        ? error.stack
        : `unexpected error: ${message} (PLEXLIFT_DEBUG=1 shows where; please report it with plexlift doctor's output)`,
    );
    process.exitCode = exitStatusOf('UNEXPECTED');
  }
}
