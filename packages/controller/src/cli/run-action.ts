import { exitStatusOf, isPlexliftError } from '@plexlift/shared';
import type { Output } from './output.js';

/**
 * Runs a command's action and turns its outcome into an exit status: a known error prints one
 * line and exits with its code's status in ERROR_CODES; anything else prints one line too and
 * exits with UNEXPECTED's. With -v (or PLEXLIFT_DEBUG=1) each also shows where it came from: its
 * stack and its causes'. Always via `process.exitCode`, never a mid-flight `process.exit()`, so
 * open files close cleanly.
 */
export async function runAction(output: Output, action: () => Promise<number | void> | number | void): Promise<void> {
  try {
    const code = await action();
    if (typeof code === 'number') process.exitCode = code;
  } catch (error) {
    if (isPlexliftError(error)) {
      if (output.json) output.printJson({ error: { code: error.code, message: error.message, details: error.details ?? {} } });
      output.error(error.message);
      output.detail(stackOf(error));
      process.exitCode = error.exitCode;
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    if (output.json) output.printJson({ error: { code: 'UNEXPECTED', message, details: {} } });
    if (output.verbosity === 'verbose' && error instanceof Error) output.error(`unexpected error: ${message}\n${stackOf(error)}`);
    else output.error(`unexpected error: ${message} (-v shows where; please report it with plexlift doctor's output)`);
    process.exitCode = exitStatusOf('UNEXPECTED');
  }
}

/** Where an error came from: its stack's frames, then each cause with its own. */
function stackOf(error: Error): string {
  const frames = (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  const cause = error.cause instanceof Error ? `\n  caused by ${error.cause.stack ?? error.cause.message}` : '';
  return `${frames.join('\n')}${cause}`;
}
