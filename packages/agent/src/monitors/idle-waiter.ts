import { setTimeout as sleep } from 'node:timers/promises';
import { PlexliftError } from '@plexlift/shared';

/** What the agent reads from Plex (and the machine) to tell whether work is still going on. */
export interface IdleSample {
  /** Activities of the watched kind for the watched section (by uuid and type). */
  busyActivities: number;
  /** `refreshing` of the section in `/library/sections`. */
  refreshing: boolean;
  /** `updateQueueSize` of the section's timeline. */
  updateQueueSize: number;
  /** Plex's CPU use, percent of the machine; undefined when not measured. */
  cpuPercent: number | undefined;
}

export interface IdleProfile {
  /** Readings after the trigger that never count as idle (plex-api.md, Traps: `refreshing` can read false just after the trigger). */
  graceMs: number;
  intervalMs: number;
  /** Idle readings in a row that make "done". */
  consecutive: number;
  /** CPU under this is idle. */
  cpuThresholdPercent: number;
  /** Safety timeout: the wait fails past it. */
  timeoutMs: number;
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Scan 30 s × 3, analyze and refresh 120 s × 5, each after a 60 s grace: the readings tried on real libraries (plex-api.md §9). */
export const IDLE_PROFILES = {
  scan: { graceMs: 60 * SECOND, intervalMs: 30 * SECOND, consecutive: 3, cpuThresholdPercent: 20, timeoutMs: 4 * HOUR },
  analyze: { graceMs: 60 * SECOND, intervalMs: 120 * SECOND, consecutive: 5, cpuThresholdPercent: 20, timeoutMs: 4 * HOUR },
  refresh: { graceMs: 60 * SECOND, intervalMs: 120 * SECOND, consecutive: 5, cpuThresholdPercent: 20, timeoutMs: 4 * HOUR },
} as const satisfies Record<string, IdleProfile>;

/** Safety timeout of a scan per section type. */
export const SCAN_TIMEOUT_MS = { movie: 4 * HOUR, show: 2 * HOUR, photo: 8 * HOUR, artist: 4 * HOUR } as const;

export interface IdleResult {
  samples: number;
  /** Whether any reading showed work: a wait that never saw any is worth a warning. */
  sawWork: boolean;
  elapsedMs: number;
}

export interface IdleWaitOptions {
  signal?: AbortSignal;
  /** Clock and sleep, replaced in tests that replay recorded series. */
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  onSample?: (sample: IdleSample, state: { idleInARow: number; elapsedMs: number }) => void;
  /** Names what is waited for in the timeout error. */
  label?: string;
}

export function isIdle(sample: IdleSample, profile: IdleProfile): boolean {
  return (
    sample.busyActivities === 0 &&
    !sample.refreshing &&
    sample.updateQueueSize === 0 &&
    (sample.cpuPercent === undefined || sample.cpuPercent < profile.cpuThresholdPercent)
  );
}

/**
 * Waits until Plex is truly idle: no activity, not refreshing, an empty metadata queue and a
 * quiet CPU, for `consecutive` readings in a row after the grace period. One signal alone lies
 * (the Butler activity lingers, `refreshing` lags, a finished scan still downloads metadata).
 */
export async function waitUntilIdle(read: () => Promise<IdleSample>, profile: IdleProfile, options: IdleWaitOptions = {}): Promise<IdleResult> {
  const now = options.now ?? Date.now;
  const wait = options.sleep ?? ((ms: number, signal?: AbortSignal) => sleep(ms, undefined, signal ? { signal } : {}));
  const started = now();
  let idleInARow = 0;
  let samples = 0;
  let sawWork = false;
  for (;;) {
    options.signal?.throwIfAborted();
    const sample = await read();
    samples += 1;
    const elapsedMs = now() - started;
    const idle = isIdle(sample, profile);
    if (!idle) sawWork = true;
    idleInARow = idle && elapsedMs >= profile.graceMs ? idleInARow + 1 : 0;
    options.onSample?.(sample, { idleInARow, elapsedMs });
    if (idleInARow >= profile.consecutive) return { samples, sawWork, elapsedMs };
    if (elapsedMs + profile.intervalMs > profile.timeoutMs) {
      throw new PlexliftError(
        'PHASE_TIMEOUT',
        `${options.label ?? 'Plex'} was still busy after ${formatDuration(profile.timeoutMs)} (last reading: ${describe(sample)}); the safety timeout stops the wait`,
        { details: { sample, samples } },
      );
    }
    await wait(profile.intervalMs, options.signal);
  }
}

function describe(sample: IdleSample): string {
  const cpu = sample.cpuPercent === undefined ? 'CPU not measured' : `CPU ${sample.cpuPercent.toFixed(0)} %`;
  return `${sample.busyActivities} activities, refreshing ${sample.refreshing ? 'yes' : 'no'}, queue ${sample.updateQueueSize}, ${cpu}`;
}

export function formatDuration(ms: number): string {
  if (ms >= HOUR) return `${(ms / HOUR).toFixed(ms % HOUR === 0 ? 0 : 1)} h`;
  if (ms >= MINUTE) return `${Math.round(ms / MINUTE)} min`;
  return `${Math.round(ms / SECOND)} s`;
}
