#!/usr/bin/env node
import { runCli } from './program.js';

// A reader that stops early (`plexlift logs JOB | head -1`) is not an error. Results go to stdout:
// nobody reads the rest, so stop quietly. Progress goes to stderr: the work goes on unseen.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});
process.stderr.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

await runCli(process.argv);
