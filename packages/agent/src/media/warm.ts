import { describeReadError, readHead, withTimeout } from './read-head.js';

export interface WarmOptions {
  /** Bytes read from the head of each file. @default 65_536 */
  headBytes?: number;
  /** @default 4 */
  initialConcurrency?: number;
  /** @default 64 */
  maxConcurrency?: number;
  /** A read slower than this counts as an error. @default 30_000 */
  timeoutMs?: number;
  signal?: AbortSignal;
  onProgress?: (progress: WarmProgress) => void;
}

export interface WarmProgress {
  total: number;
  done: number;
  concurrency: number;
  filesPerSecond: number;
}

export interface WarmReport {
  total: number;
  warmed: number;
  /** Reads that failed for another reason than a missing file (EIO, timeouts). */
  errors: { file: string; error: string }[];
  /** Files the DB knows that do not exist (renamed in the bucket): not the mount's fault. */
  stale: string[];
  /** The concurrency reached. */
  concurrency: number;
  elapsedMs: number;
}

/**
 * Reads the head of every file before analysis, so the rclone VFS cache is warm and the
 * analysers do not time out on cold first reads (plex-api.md, Traps: cloud mounts stress
 * analysis). Concurrency starts small and doubles while throughput grows, halves when it
 * falls, capped: a residential link or a busy mount is not flooded.
 */
export async function warmFiles(files: string[], options: WarmOptions = {}): Promise<WarmReport> {
  const headBytes = options.headBytes ?? 65_536;
  const max = options.maxConcurrency ?? 64;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const started = performance.now();
  const report: WarmReport = { total: files.length, warmed: 0, errors: [], stale: [], concurrency: options.initialConcurrency ?? 4, elapsedMs: 0 };
  let next = 0;
  let done = 0;
  let active = 0;
  let windowStart = performance.now();
  let windowDone = 0;
  let lastRate = 0;

  await new Promise<void>((resolve) => {
    const launch = () => {
      while (active < report.concurrency && next < files.length && !options.signal?.aborted) {
        const file = files[next++]!;
        active += 1;
        void warmOne(file, headBytes, timeoutMs).then((outcome) => {
          active -= 1;
          done += 1;
          windowDone += 1;
          if (outcome === 'ok') report.warmed += 1;
          else if (outcome === 'ENOENT') report.stale.push(file);
          else report.errors.push({ file, error: outcome });
          adapt();
          options.onProgress?.({ total: files.length, done, concurrency: report.concurrency, filesPerSecond: lastRate });
          if (done === files.length || (options.signal?.aborted && active === 0)) resolve();
          else launch();
        });
      }
      if (files.length === 0) resolve();
    };
    const adapt = () => {
      if (windowDone < Math.max(8, report.concurrency * 2)) return;
      const seconds = (performance.now() - windowStart) / 1000;
      const rate = windowDone / Math.max(seconds, 0.001);
      if (rate > lastRate * 1.1) report.concurrency = Math.min(max, report.concurrency * 2);
      else if (rate < lastRate * 0.7) report.concurrency = Math.max(1, Math.floor(report.concurrency / 2));
      lastRate = rate;
      windowStart = performance.now();
      windowDone = 0;
    };
    launch();
  });
  options.signal?.throwIfAborted();
  report.elapsedMs = Math.round(performance.now() - started);
  return report;
}

/** 'ok', or what went wrong (an errno code such as ENOENT, or a timeout). */
async function warmOne(file: string, bytes: number, timeoutMs: number): Promise<string> {
  try {
    await withTimeout(readHead(file, bytes), timeoutMs);
    return 'ok';
  } catch (error) {
    return describeReadError(error);
  }
}
