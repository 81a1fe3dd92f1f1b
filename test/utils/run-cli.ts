import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The CLI entry point, run from its sources. */
export const CLI_BIN = fileURLToPath(new URL('../../packages/controller/src/cli/bin.ts', import.meta.url));

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `plexlift` CLI (from source) in a child process, as a user would. */
export function runCli(
  args: string[],
  options: {
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number;
    /** Called with stderr as it comes (a test waits for a line). */ onStderr?: (chunk: string) => void;
  } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', CLI_BIN, ...args],
      { env: { ...process.env, PLEXLIFT_CONFIG: undefined, ...options.env }, maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 60_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') reject(new Error(`could not run the CLI: ${error.message}`, { cause: error }));
        else resolve({ status: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
    if (options.onStderr) child.stderr?.on('data', (chunk: Buffer | string) => options.onStderr!(chunk.toString()));
  });
}

/** The CLI running under a real pseudo-terminal: what it shows so far, keys to type, its end. */
export interface CliOnTerminal {
  /** Everything the terminal got so far (stdout and stderr as shown, \r removed). */
  screen: () => string;
  /** Types on the terminal (`\x03` is Ctrl-C: the terminal sends SIGINT). */
  type: (text: string) => void;
  /** Ends the input (what the terminal then reads is the end of input). */
  end: () => void;
  exited: Promise<{ status: number; output: string }>;
}

/** Starts the CLI under a real pseudo-terminal (util-linux `script`). */
export function startCliOnTerminal(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): CliOnTerminal {
  const command = [process.execPath, '--conditions=source', '--import', 'tsx', CLI_BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  let output = '';
  const child = spawn('script', ['-qefc', command, '/dev/null'], {
    env: { ...process.env, PLEXLIFT_CONFIG: undefined, ...options.env },
    timeout: options.timeoutMs ?? 120_000,
  });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString().replace(/\r/g, '')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString().replace(/\r/g, '')));
  const exited = new Promise<{ status: number; output: string }>((resolve) => child.once('close', (code) => resolve({ status: code ?? 128, output })));
  return { screen: () => output, type: (text) => child.stdin.write(text), end: () => child.stdin.end(), exited };
}

/**
 * The CLI under a real pseudo-terminal: `typed` is on its input ahead of time; the screen
 * (stdout and stderr as the terminal showed them, \r removed) is the output.
 */
export function runCliOnTerminal(
  args: string[],
  typed: string,
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ status: number; output: string }> {
  const terminal = startCliOnTerminal(args, options);
  terminal.type(typed);
  terminal.end();
  return terminal.exited;
}
