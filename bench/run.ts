/**
 * `npm run bench`: the transfer and warming benchmarks (B1–B4 of the benchmark issue), each
 * against a baseline measured in the same run, written to bench/RESULTS.md with the machine they
 * ran on. Timings never fail anything: targets are reported as met or missed, with why.
 *
 *   npm run bench                 # all
 *   npm run bench -- --only B1,B3 # some
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { archivePipelineBench } from './archive-pipeline.bench.js';
import { cacheWarmingBench } from './cache-warming.bench.js';
import { idleFootprintBench } from './idle-footprint.bench.js';
import { slowLinkBench } from './slow-link.bench.js';
import { machineFacts } from './lib/measure.js';
import type { Report } from './lib/report.js';

const { values } = parseArgs({ options: { only: { type: 'string', default: 'B1,B2,B3,B4' } } });
const only = new Set(values.only.split(',').map((name) => name.trim().toUpperCase()));
const started = performance.now();
const reports: Report[] = [];

/** Rewritten after each benchmark: a run cut short keeps what it measured. */
function writeResults(): void {
  const minutes = ((performance.now() - started) / 60_000).toFixed(1);
  const results = [
    '# Benchmark results',
    '',
    `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)} after ${minutes} min. Every figure is measured against a baseline run in the same session on the same machine; targets are from the benchmark issue.`,
    '',
    '```',
    machineFacts(),
    '```',
    '',
    ...reports.map((report) => report.markdown()),
  ].join('\n');
  writeFileSync(join(import.meta.dirname, 'RESULTS.md'), results);
  console.log(`\nwritten: bench/RESULTS.md (${minutes} min)`);
}

if (only.has('B1') || only.has('B2')) {
  const b1 = await archivePipelineBench();
  if (only.has('B1')) reports.push(b1.report);
  writeResults();
  if (only.has('B2')) reports.push(await slowLinkBench(b1));
  writeResults();
}
if (only.has('B3')) {
  reports.push(await cacheWarmingBench());
  writeResults();
}
if (only.has('B4')) {
  reports.push(await idleFootprintBench());
  writeResults();
}
