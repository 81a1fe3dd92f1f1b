import { cpSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join } from 'node:path';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);

/** Native addons cannot be bundled: they travel as packages beside the bundle. */
const NATIVE_PACKAGES = ['better-sqlite3', 'bindings', 'file-uri-to-path'];

export interface BundleOptions {
  /** Compile-time constants (the version). */
  define?: Record<string, string>;
  /**
   * What the program imports dynamically goes into `<outDir>/chunks/`, parsed only when used: the
   * daemon does not carry the Scaleway SDK, undici or the X.509 code while it idles.
   */
  splitting?: boolean;
}

/**
 * One of our programs as an ESM file for Node 20+ (`<outDir>/<name>`, plus `chunks/` when split),
 * with better-sqlite3 and what it loads copied into `<outDir>/node_modules` (built for this
 * machine's Node and arch). Used for the CLI, the agent the controller serves to VMs and the test
 * images.
 */
export async function bundleNodeApp(entry: string, outDir: string, name: string, options: BundleOptions = {}): Promise<void> {
  const extension = extname(name);
  await build({
    entryPoints: [{ in: entry, out: basename(name, extension) }],
    outdir: outDir,
    outExtension: { '.js': extension },
    splitting: options.splitting ?? false,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['better-sqlite3'],
    define: options.define ?? {},
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
