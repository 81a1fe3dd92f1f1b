import { setTimeout as sleep } from 'node:timers/promises';

/** The piece a limited transfer sends or counts at a time: at 64 KiB/s, one a second, well inside home's 60 s stall guard. */
const LIMITED_SLICE_BYTES = 64 * 1024;

/**
 * A job's `--bwlimit` over the bytes it sends or receives: a token bucket whose tokens are time
 * (each take books `bytes / rate` seconds after the previous booking and waits for its end). It
 * starts empty, as rclone's does, and saves nothing up while idle, so N bytes take at least
 * N / rate. Not npm's `limiter`: it has no abort and serves waiters in whatever order their timers
 * fire, and two chunk requests may share a limit (one starved past home's stall guard is cut).
 * Here bookings are made in call order, so concurrent takers alternate slice by slice.
 */
export class BandwidthLimit {
  /** When (performance.now()) the bytes booked so far have been paid for. */
  private paidUntilMs = 0;

  constructor(readonly bytesPerSecond: number) {}

  /** Waits until `bytes` more fit within the rate; an abort ends the wait (the booking stays spent). */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    const now = performance.now();
    this.paidUntilMs = Math.max(this.paidUntilMs, now) + (bytes / this.bytesPerSecond) * 1000;
    const waitMs = this.paidUntilMs - now;
    if (waitMs >= 1) await sleep(waitMs, undefined, signal ? { signal } : {});
  }
}

/** Passes `pieces` on no faster than `limit` allows, each cut to {@link LIMITED_SLICE_BYTES} at most. */
export async function* throttle(pieces: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, limit: BandwidthLimit, signal?: AbortSignal): AsyncGenerator<Buffer> {
  for await (const piece of pieces) {
    const data = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    for (let offset = 0; offset < data.length; offset += LIMITED_SLICE_BYTES) {
      const slice = data.subarray(offset, offset + LIMITED_SLICE_BYTES);
      await limit.take(slice.length, signal);
      yield slice;
    }
  }
}
