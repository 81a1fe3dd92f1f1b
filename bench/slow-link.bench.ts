/**
 * B2: the same transfer as B1 through a 100 Mbit/s link (a `tc` token bucket between two network
 * namespaces): how much of the link plexlift keeps busy, and how many bytes it puts on it.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createShapedLink } from './archive/shaped-link.js';
import { runPlexliftTransfer } from './archive/plexlift-transfer.js';
import type { ArchiveBench } from './archive-pipeline.bench.js';
import { dropCaches, megabytes, seconds } from './lib/measure.js';
import { BENCH_CACHE } from './lib/reference-library.js';
import { Report } from './lib/report.js';

const RATE_MBIT = 100;

export async function slowLinkBench(b1: Pick<ArchiveBench, 'data' | 'baselineArchiveBytes' | 'tarBytes' | 'zstdMbPerSecond'>): Promise<Report> {
  const report = new Report(`B2 slow link (${RATE_MBIT} Mbit/s token bucket)`);
  const work = join(BENCH_CACHE, 'run-b2');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  using link = createShapedLink(RATE_MBIT);
  dropCaches();
  const run = await runPlexliftTransfer(b1.data.pmsDir, work, { controllerNetns: link.homeNetns, agentNetns: link.vmNetns, host: link.homeAddress });
  rmSync(work, { recursive: true, force: true });
  // Upload time: from the start to home holding every chunk (the unpack after it is local).
  const linkSeconds = (run.bytesOnWire * 8) / (RATE_MBIT * 1_000_000);
  const utilisation = linkSeconds / (run.verifiedMs / 1000);
  report.table(
    ['run', 'upload time', 'bytes on the wire', 'link utilisation', 'wall time (with unpack)'],
    [['plexlift (zstd -3)', seconds(run.verifiedMs), megabytes(run.bytesOnWire), `${(utilisation * 100).toFixed(0)} %`, seconds(run.wallMs)]],
  );
  report.line(`The previous tool's archive (tar czf, gzip -6) of the same tree is ${megabytes(b1.baselineArchiveBytes)}: it would need ${seconds(((b1.baselineArchiveBytes * 8) / (RATE_MBIT * 1_000_000)) * 1000)} on this link at best; the tree is ${megabytes(b1.tarBytes)} uncompressed.`);
  report.line(
    `The compression level is fixed (zstd -3: ${b1.zstdMbPerSecond.toFixed(0)} MB/s on this machine in B1, far above the link's ${RATE_MBIT / 8} MB/s). It does not yet rise on a slow link: zstd's own --adapt is documented to stick at low levels with several threads, and Node 20 has no zstd binding to switch levels between frames; a per-segment level (concatenated zstd frames, level chosen from the measured upload rate) would close that.`,
  );
  report.target('≥ 90 % link utilisation', `${(utilisation * 100).toFixed(0)} %`, utilisation >= 0.9);
  report.target("bytes on the wire ≤ the gzip -6 archive's", `${megabytes(run.bytesOnWire)} vs ${megabytes(b1.baselineArchiveBytes)}`, run.bytesOnWire <= b1.baselineArchiveBytes);
  return report;
}
