import { execFile } from 'node:child_process';
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

/**
 * The CLI under a real pseudo-terminal (util-linux `script`): `typed` is on its input ahead of
 * time; the screen (stdout and stderr as the terminal showed them, \r removed) is the output.
 */
export function runCliOnTerminal(
  args: string[],
  typed: string,
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ status: number; output: string }> {
  const command = [process.execPath, '--conditions=source', '--import', 'tsx', CLI_BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = execFile(
      'script',
      ['-qec', command, '/dev/null'],
      { env: { ...process.env, PLEXLIFT_CONFIG: undefined, ...options.env }, timeout: options.timeoutMs ?? 60_000 },
      (error, stdout) => {
        if (error && typeof error.code !== 'number') reject(new Error(`could not run script: ${error.message}`, { cause: error }));
        else resolve({ status: typeof error?.code === 'number' ? error.code : 0, output: stdout.replace(/\r/g, '') });
      },
    );
    child.stdin!.end(typed);
  });
}
