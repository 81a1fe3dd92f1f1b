import { spawn, type ChildProcess } from 'node:child_process';
import { PlexliftError } from '../errors.js';

/**
 * A SQLite command-line shell given as a program and its leading arguments: a stock `sqlite3`,
 * `Plex SQLite`, or a prefix that runs one elsewhere (`docker run … IMAGE`, with the DBs bound
 * at the same paths). Arguments after the DB are run in order, as the shell does.
 */
export type SqliteShellCommand = readonly string[];

export interface ShellResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the shell once and collects what it prints; rejects only when it cannot be started. */
export async function runSqliteShell(
  command: SqliteShellCommand,
  args: string[],
  options: { input?: string; signal?: AbortSignal } = {},
): Promise<ShellResult> {
  const [program, ...prefix] = command;
  if (!program) throw new PlexliftError('BAD_ARGUMENT', 'SQLite shell: empty command');
  const child = spawn(program, [...prefix, ...args], { stdio: ['pipe', 'pipe', 'pipe'], ...(options.signal ? { signal: options.signal } : {}) });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stdin.on('error', () => {
    // It exited before reading its input; its exit code and stderr say why.
  });
  child.stdin.end(options.input);
  const { code, stderr } = await waitForExit(child);
  return { code, stdout, stderr };
}

/** The exit code (128 for a signal) and the tail of stderr. */
export function waitForExit(child: ChildProcess): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      // Keep the tail only: a badly damaged DB can make the shell print a lot.
      stderr = (stderr + chunk.toString('utf8')).slice(-64 * 1024);
    });
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stderr }));
  });
}

export function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .find((line) => line.trim() !== '')
      ?.trim() ?? ''
  );
}
