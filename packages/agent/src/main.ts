#!/usr/bin/env node
/**
 * The plexlift agent: runs on the cloud VM next to Plex and dials home. This entry point
 * answers `--version` and `--help`; the connection home and the phase runner come with the
 * agent issue (DESIGN.md, packages/agent).
 */
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { EXIT_CODES } from '@plexlift/shared';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

const USAGE = `Usage: plexlift-agent [--version] [--help]

The plexlift agent carries out a job's cloud phases (mount, restore, repair, remap,
plex-start, preflight, scan, warm, analyze, refresh, stabilize, sonic, plex-stop,
export, upload) next to Plex Media Server, reporting to the plexlift controller.
This build has no connection home yet: it cannot run a job.`;

function main(argv: string[]): number {
  let values: { version?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { version: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (error) {
    process.stderr.write(`plexlift-agent: ${(error as Error).message}\n${USAGE}\n`);
    return EXIT_CODES.usage;
  }
  if (values.version) {
    process.stdout.write(`${version}\n`);
    return EXIT_CODES.ok;
  }
  process.stdout.write(`${USAGE}\n`);
  return values.help ? EXIT_CODES.ok : EXIT_CODES.usage;
}

process.exitCode = main(process.argv.slice(2));
