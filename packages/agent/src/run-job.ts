import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PlexliftError, toPlexliftError } from '@plexlift/shared';
import { mainDatabasePath } from '@plexlift/shared/plex-db';
import { parseJobSpec, type AgentCommand } from '@plexlift/shared/protocol';
import { HomeConnection } from './home/connection.js';
import { Journal } from './home/journal.js';
import type { JobState, JobTuning } from './job-state.js';
import { createHostCpuMonitor, type CpuMonitor } from './monitors/cpu-monitor.js';
import { CpuSampler } from './monitors/cpu-sampler.js';
import { IDLE_PROFILES, SCAN_TIMEOUT_MS } from './monitors/idle-waiter.js';
import { runPhases, type PhaseRun } from './phase-runner.js';
import { AGENT_PHASE_LIST } from './phases/index.js';
import { reportPlexOutput } from './plex/plex-output.js';
import type { PlexRuntime } from './plex/plex-runtime.js';

export interface RunJobOptions {
  controllerUrl: string;
  /** SHA-256 of the controller's certificate, pinned. */
  fingerprint?: string | undefined;
  jobId: string;
  agentVersion: string;
  token: () => string;
  workDir: string;
  /** Plex's config dir (the image's /config). */
  plexConfigDir: string;
  runtime: PlexRuntime;
  /** What the CPU samples and idle waits read. @default the whole machine */
  cpuMonitor?: CpuMonitor;
  /** Reads the cloud Plex's `PlexOnlineToken`. */
  readPlexToken: () => string | undefined;
  signal: AbortSignal;
  /** How long to wait for home to take the last events. @default 60 s; 5 s once signalled */
  drainTimeoutMs?: number;
  /** Overrides for tests (shorter waits). */
  tuning?: Partial<
    Pick<JobTuning, 'idle' | 'sonic' | 'readyTimeoutMs' | 'scanTimeoutMs' | 'holdAfterMs' | 'threads' | 'mountCheckMs' | 'maxMissingPercent'>
  > & {
    cpuSampleMs?: number;
  };
}

/** The drain's bound once the machine is being deleted; the local teardown kills at 30 s. */
const SIGNALLED_DRAIN_MS = 5_000;

export type RunJobOutcome = { ok: true; run: PhaseRun } | { ok: false; error: PlexliftError };

/**
 * The whole agent side of a job: connect home, fetch and validate the job (a bad spec stops here,
 * before anything starts), run every phase in order, and make sure home has every event.
 */
export async function runJob(options: RunJobOptions): Promise<RunJobOutcome> {
  // A fresh VM has no work folder yet: made here, private (the journal holds the session token).
  mkdirSync(options.workDir, { recursive: true, mode: 0o700 });
  const journal = new Journal(join(options.workDir, 'journal.db'), options.jobId);
  // An `abort` from home stops the phase in flight through the same signal as a local one.
  const aborted = new AbortController();
  const signal = AbortSignal.any([options.signal, aborted.signal]);
  // A `land` stops the long phases and skips the rest: what was done goes home. A second one is
  // ignored; one after the long phases changes nothing (no phase left reads it).
  const landing = new AbortController();
  const onCommand = (command: AgentCommand) => {
    if (command.jobId !== options.jobId) return;
    if (command.type === 'abort') aborted.abort(new PlexliftError('JOB_ABORTED', `the job was aborted from home: ${command.reason}`));
    // The reason only travels inside the agent: the landed phases complete, they do not fail.
    else if (command.type === 'land' && !landing.signal.aborted) {
      connection.report({ type: 'log', level: 'info', message: 'agent: landing; the long phases stop and the work so far goes home' });
      landing.abort(new PlexliftError('UNEXPECTED', `the job is landing: ${command.reason}`));
    }
  };
  const connection = new HomeConnection({
    url: options.controllerUrl,
    fingerprint: options.fingerprint,
    jobId: options.jobId,
    agentVersion: options.agentVersion,
    token: options.token,
    journal,
    onCommand,
  });
  const cpu = new CpuSampler(options.cpuMonitor ?? (await createHostCpuMonitor()), {
    intervalMs: options.tuning?.cpuSampleMs ?? 30_000,
    onSample: (percent) => connection.report({ type: 'cpu:sample', percent: Math.round(percent * 10) / 10 }),
  });
  try {
    await connection.start(signal);
    const job = parseJobSpec((await connection.job()).spec);
    const pmsDir = join(options.plexConfigDir, 'Library', 'Application Support', 'Plex Media Server');
    const state: JobState = {
      connection,
      runtime: options.runtime,
      readPlexToken: options.readPlexToken,
      workDir: options.workDir,
      pmsDir,
      mainDb: mainDatabasePath(pmsDir),
      cpu,
      idle: options.tuning?.idle ?? IDLE_PROFILES,
      scanTimeoutMs: options.tuning?.scanTimeoutMs ?? SCAN_TIMEOUT_MS,
      sonic: options.tuning?.sonic ?? { intervalMs: 120_000, timeoutMs: 72 * 3_600_000, tracker: { stallReadings: 30 } },
      ...(options.tuning?.readyTimeoutMs ? { readyTimeoutMs: options.tuning.readyTimeoutMs } : {}),
      ...(options.tuning?.holdAfterMs === undefined ? {} : { holdAfterMs: options.tuning.holdAfterMs }),
      ...(options.tuning?.threads ? { threads: options.tuning.threads } : {}),
      ...(options.tuning?.mountCheckMs ? { mountCheckMs: options.tuning.mountCheckMs } : {}),
      ...(options.tuning?.maxMissingPercent === undefined ? {} : { maxMissingPercent: options.tuning.maxMissingPercent }),
    };
    cpu.start();
    try {
      const run = await runPhases(AGENT_PHASE_LIST, { job, state, signal, landing: landing.signal, report: (event) => connection.report(event) });
      return { ok: true, run };
    } finally {
      cpu.stop();
      await state.mountSupervisor?.stop();
      // Plex still running here means a phase failed: what it printed may say why.
      const stopped = await options.runtime.stop().catch(() => undefined);
      reportPlexOutput((event) => connection.report(event), stopped?.output);
      await state.mount?.unmount().catch(() => undefined);
    }
  } catch (error) {
    return { ok: false, error: toPlexliftError(error) };
  } finally {
    // Home gets every event it can within the bound; the journal keeps the rest on disk. A
    // signal means home is deleting this machine (a cap, an abort): a backlog behind a slow
    // uplink must not hold the deletion, so the bound is short then.
    const drainMs = signal.aborted ? Math.min(options.drainTimeoutMs ?? SIGNALLED_DRAIN_MS, SIGNALLED_DRAIN_MS) : (options.drainTimeoutMs ?? 60_000);
    await Promise.race([connection.drained().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, drainMs).unref())]);
    await connection.close();
    journal.close();
  }
}
