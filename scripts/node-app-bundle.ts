import { cpSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);

/** Native addons cannot be bundled: they travel as packages beside the bundle. */
const NATIVE_PACKAGES = ['better-sqlite3', 'bindings', 'file-uri-to-path'];

/**
 * One of our programs as a single ESM file for Node 20+ (`<outDir>/<name>`), with better-sqlite3
 * and what it loads copied into `<outDir>/node_modules` (built for this machine's Node and arch).
 * Used for the agent the controller serves to VMs and for the test images.
 */
export async function bundleNodeApp(entry: string, outDir: string, name: string, define: Record<string, string> = {}): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile: join(outDir, name),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['better-sqlite3'],
    define,
    conditions: ['source'],
    // Bundled CommonJS (ws, systeminformation) still calls require().
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: 'error',
  });
  for (const pkg of NATIVE_PACKAGES) {
    const root = dirname(require.resolve(`${pkg}/package.json`));
    cpSync(root, join(outDir, 'node_modules', pkg), {
      recursive: true,
      filter: (source) => !/[/\\](src|deps|docs|test_extension\.node|obj\.target|\.deps)([/\\]|$)/.test(source),
    });
  }
}
