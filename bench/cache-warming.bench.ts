/**
 * B3: warming the media mount before analysis. 5,000 files behind a loopback server that delays
 * every request like an object store, mounted with the agent's own `rclone mount` (its flags, its
 * VFS cache); the agent's warming against `xargs -P4 head -c 65536` on the same mount, each on a
 * fresh mount with the page cache dropped.
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { mountRclone } from '../packages/agent/src/rclone-mount.js';
import { warmFiles } from '../packages/agent/src/warm.js';
import { serveBucket } from '../test/utils/rclone-mount.js';
import { dropCaches, seconds, timeShell } from './lib/measure.js';
import { BENCH_CACHE } from './lib/reference-library.js';
import { Report } from './lib/report.js';
import { startDelayingProxy } from './warm/delaying-proxy.js';

const FILES = 5_000;
const DELAY_MS = 40;

export async function cacheWarmingBench(): Promise<Report> {
  const report = new Report(`B3 cache warming (${FILES.toLocaleString('en-US')} files, ${DELAY_MS} ms per object read)`);
  const work = join(BENCH_CACHE, 'run-b3');
  rmSync(work, { recursive: true, force: true });
  const media = join(work, 'bucket');
  // Films of 2 GB each, sparse: the server reads zeros, the disk holds nothing.
  for (let i = 0; i < FILES; i++) {
    const folder = join(media, `Film ${Math.floor(i / 10)} (${1950 + (i % 70)})`);
    mkdirSync(folder, { recursive: true });
    const fd = openSync(join(folder, `Film ${i}.mkv`), 'w');
    ftruncateSync(fd, 2 * 1024 ** 3);
    closeSync(fd);
  }
  const bucket = await serveBucket(media);
  await using proxy = await startDelayingProxy(bucket.url, DELAY_MS);

  const onFreshMount = async <T>(name: string, run: (mountPoint: string, files: string[]) => Promise<T>): Promise<{ result: T; requests: number }> => {
    const mountPoint = join(work, `mnt-${name}`);
    const mount = await mountRclone({ remote: ':http:', remoteArgs: ['--http-url', proxy.url], mountPoint, profile: 'standard', cacheDir: join(work, `cache-${name}`) });
    try {
      // The scan before analysis listed the tree: listings are cached, file heads are not.
      // Asynchronously: the delaying proxy answers rclone from this process's event loop.
      const files = (await readdir(mountPoint, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
      if (files.length !== FILES) throw new Error(`the mount shows ${files.length} of ${FILES} files`);
      dropCaches();
      const before = proxy.requests;
      const result = await run(mountPoint, files);
      return { result, requests: proxy.requests - before };
    } finally {
      await mount.unmount();
    }
  };

  const baseline = await onFreshMount('baseline', (mountPoint) => timeShell(`find '${mountPoint}' -type f -print0 | xargs -0 -P4 -n1 head -c 65536 > /dev/null`));
  const ours = await onFreshMount('plexlift', async (_mountPoint, files) => warmFiles(files));
  await bucket.stop();
  rmSync(work, { recursive: true, force: true });

  const ratio = ours.result.elapsedMs / baseline.result;
  report.table(
    ['run', 'time', 'files/s', 'requests to the server', 'concurrency'],
    [
      ['xargs -P4 head -c 65536', seconds(baseline.result), (FILES / (baseline.result / 1000)).toFixed(0), String(baseline.requests), '4'],
      ["plexlift's warming (adaptive)", seconds(ours.result.elapsedMs), (FILES / (ours.result.elapsedMs / 1000)).toFixed(0), String(ours.requests), `4 → ${ours.result.concurrency}`],
    ],
  );
  report.line(`Warmed ${ours.result.warmed} files, ${ours.result.errors.length} errors. The mount is the agent's own (\`mountRclone\`, profile standard: --vfs-cache-mode full), through rclone's http backend, which does not pace its requests (its webdav backend spaces them 10 ms apart whatever the concurrency).`);
  report.line(
    "What limits it: each cold file costs at least one request at the server's delay, so time ≈ files × delay ÷ reads in flight; the agent raises its concurrency while files per second still grow (capped at 64). rclone settings that matter on users' S3: a mount's reads are as parallel as its readers (the warming's concurrency decides); `--vfs-read-chunk-size` is the first range each open asks for (keep it moderate so a 64 KiB head does not fetch a large range); `--tpslimit`, off by default, would pace requests the way the webdav backend does.",
  );
  report.target('≤ 25 % of the baseline time', `${(ratio * 100).toFixed(0)} %`, ratio <= 0.25);
  return report;
}
