/**
 * The dashboard as the daemon serves it (`packages/controller/dashboard`): one minified ES module
 * (Preact, the tRPC client and the page), its stylesheet and the HTML shell. No CDN, no fonts:
 * everything the page loads comes from the daemon's own port.
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const source = fileURLToPath(new URL('../packages/dashboard/src/', import.meta.url));
const out = fileURLToPath(new URL('../packages/controller/dashboard/', import.meta.url));
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(source, 'main.tsx')],
  outfile: join(out, 'app.js'),
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  // Browsers of the last few years: what a ZimaOS tablet or a phone runs.
  target: ['chrome111', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  conditions: ['source'],
  legalComments: 'none',
});
for (const file of ['index.html', 'icon.svg']) copyFileSync(join(source, file), join(out, file));
// The chart's own stylesheet, then the page's (which may override it): one file, one request.
const chartCss = createRequire(import.meta.url).resolve('uplot/dist/uPlot.min.css', { paths: [source] });
writeFileSync(join(out, 'app.css'), `${readFileSync(chartCss, 'utf8')}\n${readFileSync(join(source, 'app.css'), 'utf8')}`);
