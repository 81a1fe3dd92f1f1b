import type { AgentEvent, AgentPhaseName, JobSpec } from '@plexlift/shared/protocol';

/** What a phase reports while it runs; the runner turns it into `phase:progress` events. */
export interface PhaseProgress {
  percent?: number;
  rate?: { value: number; unit: string };
  etaMs?: number;
  message?: string;
}

/**
 * What every phase gets, like Graphile Worker's `(payload, helpers)`: the job, one abort signal
 * for every wait, a way to report, and the state earlier phases left for later ones.
 */
export interface PhaseContext<State> {
  job: JobSpec;
  signal: AbortSignal;
  state: State;
  progress: (progress: PhaseProgress) => void;
  report: (event: AgentEvent) => void;
}

/** One phase, one file (`phases/<name>.ts`), one shape. A phase awaits everything it starts. */
export interface Phase<State> {
  name: AgentPhaseName;
  /** Whether the job needs it (`restore` only for delta, `refresh` only with --force-refresh…). */
  applies?: (job: JobSpec) => boolean;
  /** Resolves with the phase's summary (counts, durations) for `phase:complete`. */
  run: (context: PhaseContext<State>) => Promise<Record<string, unknown>>;
}
