/** The plexlift CLI and daemon (`<dir>/plexlift.mjs` and its `chunks/`) with its native packages, for the controller's image. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundleNodeApp } from './node-app-bundle.js';

const out = process.argv[2];
if (!out) throw new Error('usage: bundle-controller.ts OUT_DIR');
const { version } = JSON.parse(readFileSync(new URL('../packages/controller/package.json', import.meta.url), 'utf8')) as { version: string };
// The version as a constant: the bundle has no package.json beside it.
await bundleNodeApp(fileURLToPath(new URL('../packages/controller/src/cli/bin.ts', import.meta.url)), out, 'plexlift.mjs', {
  define: { __PLEXLIFT_VERSION__: JSON.stringify(version) },
  splitting: true,
});
