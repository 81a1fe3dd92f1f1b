/** One reading of Sonic analysis: the DB count (readSonicProgress) and the CPU. */
export interface SonicReading {
  /** Milliseconds, any monotonic clock. */
  at: number;
  analyzed: number;
  total: number;
  cpuPercent?: number | undefined;
}

export interface SonicStatus {
  analyzed: number;
  total: number;
  percent: number;
  /** Over the recent window; 0 until two readings apart. */
  tracksPerHour: number;
  /** Undefined while the rate is unknown or zero. */
  etaMs: number | undefined;
  done: boolean;
  /**
   * No progress for `stallReadings` readings in a row with an idle CPU, or for
   * `busyStallReadings` with a busy one (Plex spinning without getting anywhere).
   */
  stalled: boolean;
}

export interface SonicTrackerOptions {
  /** @default 30 (an hour with 2-minute readings) */
  stallReadings?: number;
  /** Below this the CPU counts as idle. @default 5 */
  cpuIdlePercent?: number;
  /** Readings without progress that make a stall even with a busy CPU. @default 3 × stallReadings */
  busyStallReadings?: number;
  /** Readings the rate is averaged over. @default 10 */
  window?: number;
}

/**
 * Progress, rate, ETA and stall detection for Sonic analysis, which can run for days. A stall
 * is a stall, never "done": an analysis that stopped must not pass for a finished one. A busy CPU
 * without progress gets a longer rope (Plex may be working through a large album) but not an
 * endless one.
 */
export class SonicProgressTracker {
  private readonly readings: SonicReading[] = [];
  private flatIdle = 0;
  private flat = 0;
  private readonly stallReadings: number;
  private readonly busyStallReadings: number;
  private readonly cpuIdlePercent: number;
  private readonly window: number;

  constructor(options: SonicTrackerOptions = {}) {
    this.stallReadings = options.stallReadings ?? 30;
    this.busyStallReadings = options.busyStallReadings ?? 3 * this.stallReadings;
    this.cpuIdlePercent = options.cpuIdlePercent ?? 5;
    this.window = options.window ?? 10;
  }

  add(reading: SonicReading): SonicStatus {
    const previous = this.readings.at(-1);
    this.readings.push(reading);
    if (this.readings.length > this.window + 1) this.readings.shift();
    const progressed = previous === undefined || reading.analyzed > previous.analyzed;
    const idle = reading.cpuPercent === undefined || reading.cpuPercent < this.cpuIdlePercent;
    this.flat = progressed ? 0 : this.flat + 1;
    this.flatIdle = progressed || !idle ? 0 : this.flatIdle + 1;

    const first = this.readings[0]!;
    const hours = (reading.at - first.at) / 3_600_000;
    const tracksPerHour = hours > 0 ? Math.max(0, (reading.analyzed - first.analyzed) / hours) : 0;
    const remaining = Math.max(0, reading.total - reading.analyzed);
    return {
      analyzed: reading.analyzed,
      total: reading.total,
      percent: reading.total > 0 ? Math.round((1000 * reading.analyzed) / reading.total) / 10 : 100,
      tracksPerHour: Math.round(tracksPerHour),
      etaMs: tracksPerHour > 0 ? Math.round((remaining / tracksPerHour) * 3_600_000) : remaining === 0 ? 0 : undefined,
      done: remaining === 0,
      stalled: remaining > 0 && (this.flatIdle >= this.stallReadings || this.flat >= this.busyStallReadings),
    };
  }
}
