/**
 * B3: warming the media mount before analysis. 5,000 files behind a loopback server that delays
 * every request like an object store, mounted with the agent's own `rclone mount` (its flags, its
 * VFS cache); the agent's warming against `xargs -P4 head -c 65536` on the same mount, each on a
 * fresh mount with the page cache dropped.
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { mountRclone } from '../packages/agent/src/media/rclone-mount.js';
import type { VfsProfile } from '../packages/agent/src/media/vfs-profiles.js';
import { warmFiles } from '../packages/agent/src/media/warm.js';
import { serveBucket } from '../test/utils/rclone-mount.js';
import { startObjectStoreProxy } from '../test/utils/object-store-proxy.js';
import { dropCaches, seconds, timeShell } from './lib/measure.js';
import { BENCH_CACHE } from './lib/reference-library.js';
import { Report } from './lib/report.js';

const FILES = 5_000;
const DELAY_MS = 40;
/** Files warmed with the predecessor's read flags: enough to see the bytes per file. */
const OLD_FLAGS_SAMPLE = 100;
/** The predecessor's `standard` read flags (predecessor.md §1.6). */
const OLD_FLAGS = { readChunkSize: '64M', bufferSize: '128M', readAhead: '128M' } as const;

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
  await using proxy = await startObjectStoreProxy(bucket.url, { delayMs: DELAY_MS });

  const onFreshMount = async <T>(
    name: string,
    run: (mountPoint: string, files: string[]) => Promise<T>,
    overrides: Partial<VfsProfile> = {},
  ): Promise<{ result: T; requests: number; bytes: number; sequentialMs: number }> => {
    const mountPoint = join(work, `mnt-${name}`);
    const mount = await mountRclone({
      remote: ':http:',
      remoteArgs: ['--http-url', proxy.url],
      mountPoint,
      profile: 'standard',
      cacheDir: join(work, `cache-${name}`),
      overrides,
    });
    try {
      // The scan before analysis listed the tree: listings are cached, file heads are not.
      // Asynchronously: the delaying proxy answers rclone from this process's event loop.
      const files = (await readdir(mountPoint, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
      if (files.length !== FILES) throw new Error(`the mount shows ${files.length} of ${FILES} files`);
      dropCaches();
      const before = { requests: proxy.requests, bytes: proxy.bytesRead };
      const result = await run(mountPoint, files);
      // rclone's downloaders stop a moment after the last reader closed the file.
      await sleep(2_000);
      const fetched = { requests: proxy.requests - before.requests, bytes: proxy.bytesRead - before.bytes };
      // What an analyser reading a whole film sees: 1 GiB of a file the warming did not touch.
      const sequentialMs = await timeShell(`dd if='${files.at(-1)!}' of=/dev/null bs=1M count=1024 status=none`);
      return { result, ...fetched, sequentialMs };
    } finally {
      await mount.unmount();
    }
  };

  const baseline = await onFreshMount('baseline', (mountPoint) =>
    timeShell(`find '${mountPoint}' -type f -print0 | xargs -0 -P4 -n1 head -c 65536 > /dev/null`),
  );
  const ours = await onFreshMount('plexlift', async (_mountPoint, files) => warmFiles(files));
  const oldFlags = await onFreshMount('old-flags', async (_mountPoint, files) => warmFiles(files.slice(0, OLD_FLAGS_SAMPLE)), OLD_FLAGS);
  await bucket.stop();
  rmSync(work, { recursive: true, force: true });

  const ratio = ours.result.elapsedMs / baseline.result;
  const perFile = (bytes: number, files: number) => `${(bytes / files / 1e6).toFixed(1)} MB`;
  report.table(
    ['run', 'files', 'time', 'files/s', 'requests to the store', 'fetched per file', 'concurrency'],
    [
      [
        'xargs -P4 head -c 65536',
        String(FILES),
        seconds(baseline.result),
        (FILES / (baseline.result / 1000)).toFixed(0),
        String(baseline.requests),
        perFile(baseline.bytes, FILES),
        '4',
      ],
      [
        "plexlift's warming (adaptive)",
        String(FILES),
        seconds(ours.result.elapsedMs),
        (FILES / (ours.result.elapsedMs / 1000)).toFixed(0),
        String(ours.requests),
        perFile(ours.bytes, FILES),
        `4 → ${ours.result.concurrency}`,
      ],
      [
        "the same with the predecessor's read flags",
        String(OLD_FLAGS_SAMPLE),
        seconds(oldFlags.result.elapsedMs),
        (OLD_FLAGS_SAMPLE / (oldFlags.result.elapsedMs / 1000)).toFixed(0),
        String(oldFlags.requests),
        perFile(oldFlags.bytes, OLD_FLAGS_SAMPLE),
        `4 → ${oldFlags.result.concurrency}`,
      ],
    ],
  );
  const gibPerSecond = (ms: number) => `${(1024 / (ms / 1000)).toFixed(0)} MB/s`;
  report.line(
    `Warmed ${ours.result.warmed} files, ${ours.result.errors.length} errors. The mount is the agent's own (\`mountRclone\`, profile standard: --vfs-cache-mode full, --vfs-read-chunk-size 1M doubling up to 1G, --buffer-size 1M, --vfs-read-ahead 0), through rclone's http backend, which does not pace its requests (its webdav backend spaces them 10 ms apart whatever the concurrency). The store's delay applies to object reads; listings answer at once, as S3 lists a thousand keys with their sizes per request.`,
  );
  report.line(
    `What limits it: not the store's latency but the rclone mount itself, which keeps a core busy opening files in full cache mode (about 50 opens/s on this machine whatever the concurrency; its cache on tmpfs changes nothing): time ≈ files ÷ that rate, for \`xargs -P4\` and for the agent alike. Latency alone would allow reads in flight ÷ ${DELAY_MS} ms (100 files/s at 4, 1,600 at the agent's cap of 64). The agent doubles its concurrency while files per second still grow, so on a faster VM it goes as far as the store allows, where \`xargs -P4\` stays at 4.`,
  );
  report.line(
    `rclone settings that matter on users' S3: in \`full\` cache mode rclone goes on downloading the first range (\`--vfs-read-chunk-size\`) and the read-ahead (\`--buffer-size\` + \`--vfs-read-ahead\`) after a reader closed the file. With the predecessor's 64M/128M/128M, warming fetched ${perFile(oldFlags.bytes, OLD_FLAGS_SAMPLE)} per file: for ${FILES.toLocaleString('en-US')} films ${(((oldFlags.bytes / OLD_FLAGS_SAMPLE) * FILES) / 1e9).toFixed(0)} GB of egress instead of ${(ours.bytes / 1e9).toFixed(1)} GB, and a mount too busy downloading to open files. The agent's profiles start every file at 1M with no read-ahead; a sequential reader (analysis, thumbnails) keeps its speed, since its ranges double up to 1G: 1 GiB of a cold film read at ${gibPerSecond(ours.sequentialMs)} with them, ${gibPerSecond(oldFlags.sequentialMs)} with the predecessor's, both above what one S3 stream delivers. \`--tpslimit\` (off by default) would pace requests the way the webdav backend does.`,
  );
  if (ratio > 0.25) {
    report.line(
      "Why the target is missed here, and what would close it: both runs wait on the same rclone process, which spends about 20 ms of a core per opened file in full cache mode, and this machine has two cores for rclone, the store and the warming. The agent's concurrency only pays once rclone has cores to spare (the VM sizes have 4 to 32); what would close it on any machine is fewer opens through the mount, e.g. rclone fetching the heads itself, which its remote control does not offer (its `vfs/refresh` reads listings, not data).",
    );
  }
  report.target('≤ 25 % of the baseline time', `${(ratio * 100).toFixed(0)} %`, ratio <= 0.25);
  return report;
}
