import type { Command } from 'commander';
import type { ControllerClient } from '../client.js';
import { withController } from './controller-connection.js';
import { createOutput, type Output, type Verbosity } from './output.js';
import { runAction } from './run-action.js';

/** What a command's handler gets: its arguments as declared, its options, the output and the command. */
export interface CommandContext<Options, Args extends unknown[]> {
  args: Args;
  options: Options;
  output: Output;
  command: Command;
}

/** A handler's outcome: an exit status, or nothing for success (a thrown error sets its own). */
type ActionResult = Promise<number | void> | number | void;

export interface CommandActionOptions {
  /** Print JSON whatever the flags (for a command whose result is JSON, such as `config get`). @default the `--json` flag */
  json?: boolean;
}

/**
 * Wraps a command's handler for commander's `.action()`: builds the output (JSON when `--json` is
 * given, as talkative as -q/-v say) and runs the handler through `runAction`, which turns its
 * outcome into the exit status.
 */
export function createCommandAction<Options extends object, Args extends unknown[] = []>(
  handler: (context: CommandContext<Options, Args>) => ActionResult,
  actionOptions: CommandActionOptions = {},
): (...received: unknown[]) => Promise<void> {
  return async (...received) => {
    // commander passes the declared arguments, then the options, then the command itself.
    const command = received.at(-1) as Command;
    const options = received.at(-2) as Options;
    const args = received.slice(0, -2) as Args;
    const output = createOutput({ json: actionOptions.json ?? (options as { json?: unknown }).json === true, verbosity: verbosityOf(command) });
    await runAction(output, () => handler({ args, options, output, command }));
  };
}

/** The program's -q/-v as the command sees them (commander refuses both at once); PLEXLIFT_DEBUG=1 is -v. */
function verbosityOf(command: Command): Verbosity {
  const { quiet, verbose } = command.optsWithGlobals<{ quiet?: boolean; verbose?: boolean }>();
  return quiet ? 'quiet' : verbose || process.env.PLEXLIFT_DEBUG ? 'verbose' : 'normal';
}

/**
 * `createCommandAction` for a command that talks to the daemon: the handler gets a client of it,
 * closed after, and a failed call exits with the status of the PlexliftError it was.
 */
export function createDaemonAction<Options extends object, Args extends unknown[] = []>(
  handler: (client: ControllerClient, context: CommandContext<Options, Args>) => Promise<number | void>,
): (...received: unknown[]) => Promise<void> {
  return createCommandAction<Options, Args>((context) => withController(context.command, (client) => handler(client, context)));
}
