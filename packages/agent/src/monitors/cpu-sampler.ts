import type { CpuMonitor } from './cpu-monitor.js';

export interface CpuSamplerOptions {
  /** Between readings of the source. @default 30 s */
  intervalMs?: number;
  /** Each reading, as it is taken (the agent reports it as a `cpu:sample` event). */
  onSample?: (percent: number) => void;
}

/**
 * The one reader of the machine's CPU during a job. `systeminformation` measures load since
 * its previous call, so two readers would cut each other's windows short; the sampler reads on
 * its own clock, reports every reading, and gives the idle and stall logic the mean of the
 * readings since they last asked.
 */
export class CpuSampler implements CpuMonitor {
  private readonly samples: number[] = [];
  private latest: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;

  constructor(
    private readonly source: CpuMonitor,
    private readonly options: CpuSamplerOptions = {},
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.sample(), this.options.intervalMs ?? 30_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Mean of the readings since the previous call; a fresh reading when none was taken. */
  async read(): Promise<number> {
    if (this.samples.length === 0) await this.sample();
    const taken = this.samples.splice(0);
    return taken.length > 0 ? taken.reduce((sum, p) => sum + p, 0) / taken.length : (this.latest ?? 0);
  }

  private sample(): Promise<void> {
    this.reading ??= this.source
      .read()
      .then((percent) => {
        this.latest = percent;
        this.samples.push(percent);
        if (this.samples.length > 10_000) this.samples.shift(); // nobody has asked for hours
        this.options.onSample?.(percent);
      })
      .catch(() => undefined)
      .finally(() => (this.reading = undefined));
    return this.reading;
  }
}
