import { PlexliftError, toPlexliftError } from '@plexlift/shared';
import { AGENT_PHASE_NAMES, type AgentEvent, type AgentPhaseName, type JobSpec } from '@plexlift/shared/protocol';
import type { JobProducts, JobState } from './job-state.js';
import type { AnyPhase } from './phases/phase.js';

export interface PhaseRun {
  completed: AgentPhaseName[];
  skipped: AgentPhaseName[];
  /** Phases a landing stopped (completed as `landed`) or skipped: the work the next run goes on with. */
  landed: AgentPhaseName[];
  durationsMs: Partial<Record<AgentPhaseName, number>>;
}

export interface RunPhasesOptions {
  job: JobSpec;
  state: JobState;
  signal: AbortSignal;
  /** Aborted when the job lands. @default a run no one lands */
  landing?: AbortSignal;
  report: (event: AgentEvent) => void;
}

/**
 * Runs the phases of a job strictly in contract order, each between a `phase:start` and a
 * `phase:complete` (or `phase:fail`, after which nothing else runs). A phase the job does not need
 * is skipped and said so; one whose needs no earlier phase made fails before it starts, and one
 * that ends without making what it lists fails. What a phase makes goes into the state for the
 * phases after it. An abort stops the phase in flight through the shared signal.
 *
 * A landing is not a failure: it stops the landable phase in flight (which completes as `landed`,
 * with what it could say of its progress), the landable phases after it are skipped as `landed`,
 * and the others (plex-stop, export, upload) run as usual, so what was done goes home.
 */
export async function runPhases(phases: readonly AnyPhase[], options: RunPhasesOptions): Promise<PhaseRun> {
  assertContractOrder(phases.map((p) => p.name));
  const landing = options.landing ?? new AbortController().signal;
  const run: PhaseRun = { completed: [], skipped: [], landed: [], durationsMs: {} };
  for (const phase of phases) {
    options.signal.throwIfAborted();
    if (phase.applies && !phase.applies(options.job)) {
      run.skipped.push(phase.name);
      options.report({ type: 'phase:complete', phase: phase.name, summary: { skipped: true } });
      continue;
    }
    if (phase.landable && landing.aborted) {
      run.skipped.push(phase.name);
      run.landed.push(phase.name);
      options.report({ type: 'phase:complete', phase: phase.name, summary: { skipped: true, landed: true } });
      continue;
    }
    const started = performance.now();
    const durationMs = () => (run.durationsMs[phase.name] = Math.round(performance.now() - started));
    options.report({ type: 'phase:start', phase: phase.name });
    let summary: Record<string, unknown>;
    try {
      const missing = (phase.needs ?? []).filter((name) => options.state[name] === undefined);
      if (missing.length > 0) throw new PlexliftError('UNEXPECTED', `${phase.name} needs ${missing.join(', ')}, which no phase before it made`);
      summary = await phase.run({
        job: options.job,
        signal: phase.landable ? AbortSignal.any([options.signal, landing]) : options.signal,
        landing,
        // Its needs are there: checked just above.
        state: options.state as JobState & JobProducts,
        make: (products) => Object.assign(options.state, products),
        report: options.report,
        progress: (progress) => options.report({ type: 'phase:progress', phase: phase.name, ...progress }),
      });
      const unmade = (phase.makes ?? []).filter((name) => options.state[name] === undefined);
      if (unmade.length > 0) throw new PlexliftError('UNEXPECTED', `${phase.name} ended without making ${unmade.join(', ')}`);
    } catch (error) {
      if (phase.landable && landing.aborted && !options.signal.aborted) {
        // Stopped by the landing: Plex keeps what the phase did, the job carries on home.
        summary = { landed: true };
      } else {
        const reason: unknown = options.signal.reason;
        const failure = options.signal.aborted
          ? new PlexliftError('JOB_ABORTED', `${phase.name} was aborted${reason instanceof PlexliftError ? `: ${reason.message}` : ''}`, { cause: error })
          : toPlexliftError(error);
        options.report({ type: 'phase:fail', phase: phase.name, code: failure.code, message: failure.message });
        throw failure;
      }
    }
    options.report({ type: 'phase:complete', phase: phase.name, summary: { ...summary, durationMs: durationMs() } });
    run.completed.push(phase.name);
    // A phase that caught the landing itself says so (Sonic with its counts, a scan cut short).
    if (summary.landed === true) run.landed.push(phase.name);
  }
  return run;
}

function assertContractOrder(names: AgentPhaseName[]): void {
  const positions = names.map((name) => AGENT_PHASE_NAMES.indexOf(name));
  if (new Set(names).size !== names.length || positions.some((position, i) => i > 0 && position <= positions[i - 1]!)) {
    throw new PlexliftError('UNEXPECTED', `phases must run once each in contract order (${AGENT_PHASE_NAMES.join(', ')}); got ${names.join(', ')}`);
  }
}
