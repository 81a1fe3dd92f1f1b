import { exitStatusOf, isPlexliftError } from '@plexlift/shared';
import type { Output } from './output.js';

/**
 * Runs a command's action and turns its outcome into an exit status: a known error prints one
 * line and exits with its code's status in ERROR_CODES; anything else prints its stack and exits
 * with UNEXPECTED's. Always via `process.exitCode`, never a mid-flight `process.exit()`, so open
 * files close cleanly.
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
    output.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = exitStatusOf('UNEXPECTED');
  }
}
