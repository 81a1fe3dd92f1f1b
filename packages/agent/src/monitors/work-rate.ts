/**
 * A rate over a sliding window of readings (count done at a time), so one burst or one pause does
 * not swing it: a scan that finds a folder of 500 films in a second reads as its minute's
 * average, not 53,535 files/h.
 */
export class WorkRate {
  private readonly readings: { at: number; done: number }[] = [];

  constructor(private readonly windowMs = 120_000) {}

  /** A reading: `done` so far at `at` (ms, any monotonic clock). */
  add(at: number, done: number): void {
    this.readings.push({ at, done });
    // Keep one reading older than the window: the rate spans the whole window.
    while (this.readings.length > 2 && this.readings[1]!.at <= at - this.windowMs) this.readings.shift();
  }

  /** Per hour over the window; 0 until two readings apart. */
  perHour(): number {
    const first = this.readings[0];
    const last = this.readings.at(-1);
    if (!first || !last || last.at <= first.at) return 0;
    return Math.max(0, ((last.done - first.done) * 3_600_000) / (last.at - first.at));
  }

  /** The time to reach `total` at this rate; undefined while the rate is unknown. */
  etaMs(total: number): number | undefined {
    const rate = this.perHour();
    const done = this.readings.at(-1)?.done ?? 0;
    if (done >= total) return 0;
    return rate > 0 ? Math.round(((total - done) / rate) * 3_600_000) : undefined;
  }
}
