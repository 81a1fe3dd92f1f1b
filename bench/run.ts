/**
 * `npm run bench`: the transfer and warming benchmarks (B1–B4 of the benchmark issue) and the
 * landing precision of bursts (B5) and the dashboard's weight and first paint (B6), each against a baseline measured in the same run, written to
 * bench/RESULTS.md with the machine they ran on. Timings never fail anything: targets are
 * reported as met or missed, with why. A run of some keeps the others' last results.
 *
 *   npm run bench                 # all
 *   npm run bench -- --only B1,B3 # some
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { archivePipelineBench } from './archive-pipeline.bench.js';
import { cacheWarmingBench } from './cache-warming.bench.js';
import { dashboardBench } from './dashboard.bench.js';
import { idleFootprintBench } from './idle-footprint.bench.js';
import { landingPrecisionBench } from './landing-precision.bench.js';
import { slowLinkBench } from './slow-link.bench.js';
import { machineFacts } from './lib/measure.js';
import type { Report } from './lib/report.js';

const ALL = ['B1', 'B2', 'B3', 'B4', 'B5', 'B6'];
const { values } = parseArgs({ options: { only: { type: 'string', default: ALL.join(',') } } });
const only = new Set(values.only.split(',').map((name) => name.trim().toUpperCase()));
const started = performance.now();
const reports: Report[] = [];
const resultsPath = join(import.meta.dirname, 'RESULTS.md');
const earlier = earlierSections();

/** The sections of the last RESULTS.md by benchmark ("B1"…), each with its own date. */
function earlierSections(): Map<string, string> {
  const sections = new Map<string, string>();
  if (!existsSync(resultsPath)) return sections;
  const text = readFileSync(resultsPath, 'utf8');
  const date = /on (\d{4}-\d{2}-\d{2})/.exec(text)?.[1] ?? 'an earlier run';
  for (const part of text.split(/^(?=## )/m).slice(1)) {
    const name = /^## (B\d+)/.exec(part)?.[1];
    if (!name) continue;
    // Said once: a section kept again already names its run. Its trailing blank lines go: the join puts one back.
    const kept = part.trimEnd() + '\n';
    sections.set(name, kept.includes('(kept from ') ? kept : kept.replace(/^(## .*)$/m, `$1 (kept from ${date})`));
  }
  return sections;
}

/** Rewritten after each benchmark: a run cut short keeps what it measured. */
function writeResults(): void {
  const minutes = ((performance.now() - started) / 60_000).toFixed(1);
  const fresh = new Map(reports.map((report) => [report.title.split(' ')[0]!, report.markdown()]));
  const sections = ALL.map((name) => fresh.get(name) ?? (only.has(name) ? undefined : earlier.get(name))).filter((section) => section !== undefined);
  const results = [
    '# Benchmark results',
    '',
    `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)} after ${minutes} min. Every figure is measured against a baseline run in the same session on the same machine; targets are from the benchmark issue.`,
    '',
    '```',
    machineFacts(),
    '```',
    '',
    ...sections,
  ].join('\n');
  writeFileSync(resultsPath, results);
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
if (only.has('B5')) {
  reports.push(await landingPrecisionBench());
  writeResults();
}
if (only.has('B6')) {
  reports.push(await dashboardBench());
  writeResults();
}
