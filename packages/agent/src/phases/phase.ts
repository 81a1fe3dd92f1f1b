import type { AgentEvent, AgentPhaseName, JobSpec } from '@plexlift/shared/protocol';
import type { JobProducts, JobState, ProductName } from '../job-state.js';

/** What a phase reports while it runs; the runner turns it into `phase:progress` events. */
export interface PhaseProgress {
  percent?: number;
  rate?: { value: number; unit: string };
  etaMs?: number;
  message?: string;
}

/**
 * What every phase gets, like Graphile Worker's `(payload, helpers)`: the job, one abort signal
 * for every wait, a way to report, the job's state with the products it needs present, and a
 * way to leave its own products for later phases.
 */
export interface PhaseContext<Needs extends ProductName = never, Makes extends ProductName = never> {
  job: JobSpec;
  signal: AbortSignal;
  /**
   * Aborted when the job lands (a budget's end, `plexlift land`). A `landable` phase's `signal`
   * includes it; a scan reads it between sections (a section under way is always finished).
   */
  landing: AbortSignal;
  state: JobState & Pick<JobProducts, Needs>;
  /** Leaves products for later phases; by the phase's end it has made every one it lists. */
  make(this: void, products: Partial<Pick<JobProducts, Makes>>): void;
  progress: (progress: PhaseProgress) => void;
  report: (event: AgentEvent) => void;
}

/**
 * One phase, one file (`phases/<name>.ts`), one shape. A phase awaits everything it starts.
 * A phase the job may skip (`applies`) must make nothing a later phase needs.
 */
export interface Phase<Needs extends ProductName = never, Makes extends ProductName = never> {
  name: AgentPhaseName;
  /** Products of earlier phases it reads: the runner refuses to start it without them. */
  needs?: readonly Needs[];
  /** Products it leaves for later phases, through `make`. */
  makes?: readonly Makes[];
  /** Whether the job needs it (`restore` only for delta, `refresh` only with --force-refresh…). */
  applies?: (job: JobSpec) => boolean;
  /**
   * A long phase whose work so far is worth keeping (warm, analyze, refresh, stabilize, Sonic):
   * a landing stops it at once, it completes as `landed`, and the landable phases after it are
   * skipped. Plex keeps in its DB what it did.
   */
  landable?: boolean;
  /** Resolves with the phase's summary (counts, durations) for `phase:complete`. */
  run(context: PhaseContext<Needs, Makes>): Promise<Record<string, unknown>>;
}

/** Any phase, whatever it needs and makes: what the runner and the registry hold. */
export type AnyPhase = Phase<ProductName, ProductName>;

/** A phase, with what it needs and makes read from its `needs` and `makes` lists. */
export function definePhase<Needs extends ProductName = never, Makes extends ProductName = never>(phase: Phase<Needs, Makes>): Phase<Needs, Makes> {
  return phase;
}
