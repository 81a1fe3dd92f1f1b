import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { exitedCleanly } from './child-exit.js';

export interface AdaptiveLevel {
  /** The level of the first frame, and the lowest. @default 3 */
  min?: number;
  /** Above this, zstd's levels cost far more CPU than they save bytes. @default 12 */
  max?: number;
  /** The least input between two decisions (a frame is at least this long). @default 32 MiB */
  segmentBytes?: number;
  /**
   * The least time between two decisions: an upload reads in bursts (a chunk as fast as it comes,
   * then nothing while chunks are in flight), and only a window longer than a burst and its pause
   * shows which side waits. @default 3 s
   */
  windowMs?: number;
  /** How often the reader's backlog is sampled. @default 100 ms */
  sampleMs?: number;
}

export interface AdaptiveZstd {
  /** The compressed stream: zstd frames one after another, which `zstd -d` reads as one. */
  stream: Readable;
  /** Resolves when every frame is written (rejects if a zstd failed). */
  finished: Promise<void>;
  /** The level of each frame so far, in order. */
  levels: number[];
}

/**
 * `zstd -T0` whose level follows whoever reads the output. Every few seconds (and megabytes) it
 * looks at how often the reader left output waiting: mostly waiting means the link is slower than
 * the compressor, so the next frame is compressed harder (fewer bytes to send, for CPU that would
 * idle anyway); rarely waiting means the compressor is the slow side, so the level comes down. A new
 * zstd process starts only when the level changes, so a fast link keeps one frame and no pause.
 * zstd's own `--adapt` is documented to stick at low levels with several worker threads.
 */
export function adaptiveZstd(input: Readable, options: AdaptiveLevel & { signal?: AbortSignal } = {}): AdaptiveZstd {
  const min = options.min ?? 3;
  const max = Math.max(min, options.max ?? 12);
  const segmentBytes = options.segmentBytes ?? 32 * 1024 * 1024;
  const windowMs = options.windowMs ?? 3_000;
  const output = new PassThrough();
  // A failure reaches the reader through its pipeline and everyone through `finished`; an upload
  // that has not started reading (home slow to answer) must not crash the agent with it.
  output.on('error', () => undefined);
  const levels: number[] = [];
  const backlog = { samples: 0, waiting: 0 };
  const sampler = setInterval(() => {
    backlog.samples += 1;
    if (output.readableLength >= output.readableHighWaterMark) backlog.waiting += 1;
  }, options.sampleMs ?? 100);

  const run = async () => {
    let level = min;
    let frame = startFrame(level, output, options.signal);
    levels.push(level);
    let segment = 0;
    let windowStart = performance.now();
    for await (const chunk of input as AsyncIterable<Buffer>) {
      await write(frame.zstd.stdin, chunk).catch(async (error: unknown) => {
        await frame.exited; // its exit status says more than a closed pipe
        throw error;
      });
      segment += chunk.length;
      if (segment < segmentBytes || performance.now() - windowStart < windowMs) continue;
      segment = 0;
      windowStart = performance.now();
      const waiting = backlog.samples === 0 ? 0 : backlog.waiting / backlog.samples;
      backlog.samples = 0;
      backlog.waiting = 0;
      // With the link busy the output waits nearly always (the uploader only pauses to take a
      // chunk); below 60 % the compressor has been holding the link back, which costs more than
      // the bytes a harder level saves.
      const step = waiting >= 0.9 ? 2 : waiting >= 0.75 ? 1 : waiting < 0.6 ? -1 : 0;
      const next = Math.min(max, Math.max(min, level + step));
      if (next === level) continue;
      frame.zstd.stdin.end();
      await frame.done;
      level = next;
      frame = startFrame(level, output, options.signal);
      levels.push(level);
    }
    frame.zstd.stdin.end();
    await frame.done;
  };
  const finished = run().then(
    () => {
      clearInterval(sampler);
      output.end();
    },
    (error: unknown) => {
      clearInterval(sampler);
      output.destroy(error as Error);
      input.destroy();
      throw error;
    },
  );
  finished.catch(() => undefined); // reported to whoever awaits `finished`, never unhandled
  return { stream: output, finished, levels };
}

interface Frame {
  zstd: ChildProcessByStdio<Writable, Readable, Readable>;
  /** Rejects when zstd fails; resolves when it exited 0. */
  exited: Promise<void>;
  /** Resolves when zstd exited 0 and all its output is in the shared stream. */
  done: Promise<void>;
}

function startFrame(level: number, output: PassThrough, signal: AbortSignal | undefined): Frame {
  const zstd = spawn('zstd', ['-T0', `-${level}`, '-q', '-c'], { stdio: ['pipe', 'pipe', 'pipe'], ...(signal ? { signal } : {}) });
  // Piped at once and never ended by one frame: the next frame follows in the same stream.
  zstd.stdout.pipe(output, { end: false });
  const exited = exitedCleanly(zstd, `zstd -${level}`);
  // A zstd that died shows as its exit status, not as EPIPE on its input.
  zstd.stdin.on('error', () => undefined);
  const drained = once(zstd.stdout, 'end').then(() => undefined);
  const done = Promise.all([exited, drained]).then(() => undefined);
  // Awaited by the frame's end or a failed write; never unhandled when the other one fails first.
  exited.catch(() => undefined);
  done.catch(() => undefined);
  return { zstd, exited, done };
}

/** Writes with backpressure; fails if zstd closes its input instead of draining it. */
async function write(stdin: Writable, chunk: Buffer): Promise<void> {
  if (stdin.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const settle = (error?: Error) => {
      stdin.off('drain', onDrain).off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => settle();
    const onClose = () => settle(new Error('zstd stopped reading its input'));
    stdin.on('drain', onDrain).on('close', onClose);
  });
}
