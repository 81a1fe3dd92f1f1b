import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleNodeApp } from '../../scripts/node-app-bundle.js';
import { BENCH_CACHE } from './reference-library.js';

const BIN = join(BENCH_CACHE, 'bin');
const built = new Map<string, Promise<string>>();

/**
 * An entry point bundled into one file, as plexlift ships (the CLI, the agent): measured as
 * installed, not through a TypeScript loader that would add its own memory and start-up.
 */
export function bundled(entry: string, name: string): Promise<string> {
  let path = built.get(entry);
  if (!path) {
    const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'packages', 'controller', 'package.json'), 'utf8')) as {
      version: string;
    };
    path = bundleNodeApp(entry, BIN, name, { define: { __PLEXLIFT_VERSION__: JSON.stringify(version) }, splitting: true }).then(() => join(BIN, name));
    built.set(entry, path);
  }
  return path;
}
