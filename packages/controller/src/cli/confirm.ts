import { createInterface } from 'node:readline/promises';

/**
 * Asks before something that cannot be taken back, when a person is there to answer: on a
 * terminal the question waits for "y"; `--yes` skips it; a script (no terminal) is not asked.
 */
export async function confirmOnTerminal(question: string, options: { yes?: boolean }): Promise<boolean> {
  if (options.yes === true || !process.stdin.isTTY || !process.stderr.isTTY) return true;
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(`${question} [y/N] `);
    return /^\s*y(es)?\s*$/i.test(answer);
  } catch (error) {
    // Ctrl-C (or the input ending) at the question is a no.
    if ((error as Error).name === 'AbortError' || (error as NodeJS.ErrnoException).code === 'ABORT_ERR') return false;
    throw error;
  } finally {
    prompt.close();
  }
}
