#!/usr/bin/env node
// The `plexlift` command of a checkout. npm links it at `npm ci`, before anything is built, so it
// is a committed file that loads the build and, when there is none, says how to make it.
import { existsSync } from 'node:fs';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';

const program = new URL('../dist/cli/program.js', import.meta.url);
if (existsSync(program)) {
  const { runCli } = await import(program.href);
  await runCli(process.argv);
} else {
  const checkout = fileURLToPath(new URL('../../..', import.meta.url));
  process.stderr.write(`plexlift: not built yet (${fileURLToPath(program)} is missing): run \`npm run build\` in ${checkout}\n`);
  // The table's `unexpected`: @plexlift/shared, which holds it, is not built either.
  process.exitCode = 1;
}
