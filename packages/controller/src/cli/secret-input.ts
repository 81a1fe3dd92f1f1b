import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { text } from 'node:stream/consumers';

/**
 * A secret read from stdin: on a terminal, asked with `prompt` on stderr and not echoed; from a
 * pipe, its first line. Whitespace around it is dropped; Ctrl-C or the input ending gives ''.
 */
export async function readSecretFromStdin(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) return ((await text(process.stdin)).split('\n')[0] ?? '').trim();
  // The terminal echoes what readline writes to its output: a sink that drops it hides the secret.
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  const reader = createInterface({ input: process.stdin, output: silent, terminal: true });
  // Ctrl-C at the question (raw mode: no signal) ends it like the input ending.
  reader.once('SIGINT', () => reader.close());
  process.stderr.write(prompt);
  try {
    return (await reader.question('')).trim();
  } catch (error) {
    if ((error as Error).name === 'AbortError' || (error as NodeJS.ErrnoException).code === 'ABORT_ERR') return '';
    throw error;
  } finally {
    reader.close();
    process.stderr.write('\n');
  }
}
