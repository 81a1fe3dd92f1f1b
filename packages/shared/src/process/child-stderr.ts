import type { ChildProcess } from 'node:child_process';

/** Keeps the last `limit` characters a child writes to stderr: where it says why it failed. */
export function collectStderr(child: ChildProcess, limit = 4096): () => string {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-limit)));
  return () => stderr;
}

/** The last line of a text (a child's stderr), trimmed. */
export function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) ?? '';
}

/** What a failed `execFile` said: its stderr, or the error's message when it has none, trimmed. */
export function stderrOf(error: unknown): string {
  return ((error as { stderr?: string }).stderr ?? (error as Error).message).trim();
}

/** The last line of what a failed `execFile` said: rclone and Plex's control commands put the reason there. */
export function lastStderrLine(error: unknown): string {
  return lastLine(stderrOf(error));
}
