import { EXIT_CODES, exitStatusOf, isErrorCode, isFinal, PlexliftError } from '@plexlift/shared';
import { backoffDelay } from '@plexlift/shared/retry';
import type { ControllerClient } from '../../client.js';
import { fromControllerError } from '../controller-connection.js';
import { createJobProgress } from '../job-progress.js';
import type { Output } from '../output.js';
import { formatReport } from './job-report-view.js';

/** How long one look at the job may take. */
const POLL_TIMEOUT_MS = 15_000;

/** Waits between tries to reach a daemon that went away (a restart takes a few seconds). */
const RECONNECT_BACKOFF = { baseMs: 1_000, maxMs: 10_000 };

/**
 * How long a watcher waits for a daemon that went away before it gives up (exit 8): the job goes
 * on without it. PLEXLIFT_RECONNECT_SECONDS changes it.
 */
function reconnectLimitMs(env: NodeJS.ProcessEnv = process.env): number {
  const seconds = Number(env.PLEXLIFT_RECONNECT_SECONDS);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 120_000;
}

/**
 * Follows a job's events until it ends and prints its report; resolves with the job's exit
 * status: 0 when done (or verified and waiting for `plexlift install`), else the status of the
 * job's error code in ERROR_CODES (e.g. 6 for a full disk, 7 for a refused token). A daemon that
 * restarts is waited for and followed again; one gone for longer than the limit is exit 8. Ctrl-C
 * stops the watching, never the job; the terminal is always left as it was.
 */
export async function followJob(
  client: ControllerClient,
  jobId: string,
  output: Output,
  options: {
    /** Shows only the events after this one (an install: not the run before it). */
    afterEventId?: number;
    /** A call that makes the job go on (the install): its failure is the command's, and until it settles the job is not waiting. */
    during?: Promise<unknown>;
    stream?: NodeJS.WriteStream;
  } = {},
): Promise<number> {
  const stream = options.stream ?? process.stderr;
  const progress = createJobProgress(stream, { asLines: output.verbosity === 'verbose' });
  // With -q only the report and the outcome are said: no events, no notices on the way.
  const isQuiet = output.verbosity === 'quiet';
  let ended = false;
  let wake = () => {};
  // Waits `ms` or until the events say the job ended; the timer goes with the wait, so it never
  // holds the CLI open after the job's end.
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  let callFailure: unknown;
  let callSettled = options.during === undefined;
  options.during?.then(
    () => (callSettled = true),
    (error: unknown) => {
      // Only the daemon's own answer is a verdict; a call cut on the way (a restart, a long install
      // past the HTTP client's limit) leaves the job to say how it went.
      if (fromControllerError(error).code !== 'CONTROLLER_UNREACHABLE') callFailure = error;
      callSettled = true;
      wake();
    },
  );
  // A job that ended while its call never answers is judged by its state after a while.
  let finalSince: number | undefined;

  // Events resume after the last one seen when the subscription is made again (a daemon restart).
  let lastEventId: string | undefined = options.afterEventId === undefined ? undefined : String(options.afterEventId);
  let subscription: { unsubscribe: () => void } | undefined;
  const subscribe = () => {
    subscription = client.jobs.events.subscribe(
      { jobId, ...(lastEventId ? { lastEventId } : {}) },
      {
        onData: ({ id, data }) => {
          lastEventId = id;
          if (!output.json && !isQuiet) progress.event(data.event);
          if ((data.event.type === 'phase:complete' && data.event.phase === 'install') || data.event.type === 'phase:fail') {
            ended = true;
            wake();
          }
        },
        // The polls below find out whether the daemon is gone; a good poll subscribes again.
        onError: () => (subscription = undefined),
      },
    );
  };

  const interrupted = () => {
    progress.stop();
    stream.write(`\nstopped following job ${jobId}; it goes on (plexlift status ${jobId} --watch)\n`);
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  try {
    const limitMs = reconnectLimitMs();
    let downSince: number | undefined;
    let failures = 0;
    // A job that ends without an install event (an abort before it started) is seen by polling.
    for (;;) {
      if (callFailure !== undefined) throw fromControllerError(callFailure);
      let status: Awaited<ReturnType<typeof client.jobs.get.query>>;
      try {
        // Bounded: a daemon that hangs (not only one that refuses) is a daemon gone.
        status = await client.jobs.get.query({ jobId }, { signal: AbortSignal.timeout(POLL_TIMEOUT_MS) });
      } catch (error) {
        const failure = fromControllerError(error);
        if (failure.code !== 'CONTROLLER_UNREACHABLE') throw failure;
        downSince ??= Date.now();
        const downMs = Date.now() - downSince;
        progress.stop();
        if (downMs >= limitMs) {
          throw new PlexliftError(
            'CONTROLLER_UNREACHABLE',
            `the daemon has not answered for ${Math.round(downMs / 1000)} s (${failure.message}); job ${jobId} goes on without this watcher: follow it again with plexlift status ${jobId} --watch`,
          );
        }
        if (failures === 0 && !isQuiet) stream.write(`  the daemon does not answer; trying again for ${Math.round(limitMs / 1000)} s (the job goes on)\n`);
        subscription?.unsubscribe();
        subscription = undefined;
        await pause(backoffDelay(failures++, RECONNECT_BACKOFF));
        continue;
      }
      if (downSince !== undefined && !isQuiet) stream.write('  the daemon answers again\n');
      downSince = undefined;
      failures = 0;
      if (!subscription) subscribe();
      const { job, phases } = status;
      // A --no-install job ends at the verified archive, once its machine is deleted and the
      // install marked skipped; that event is printed before the report.
      const waitingForInstall =
        callSettled && job.state === 'verified' && job.options.noInstall && phases.some((p) => p.phase === 'install' && p.state === 'skipped');
      if (waitingForInstall) await pause(5_000);
      // The call in flight decides when it is over: a failed job may be installed again.
      finalSince = isFinal(job.state) ? (finalSince ?? Date.now()) : undefined;
      const callGaveUp = finalSince !== undefined && Date.now() - finalSince > POLL_TIMEOUT_MS * 2;
      if ((isFinal(job.state) && (callSettled || callGaveUp)) || waitingForInstall) break;
      if (!ended) await pause(1_000);
      ended = false;
    }
  } finally {
    process.off('SIGINT', interrupted);
    subscription?.unsubscribe();
    progress.stop();
  }
  // A refused call (an install of a job with nothing to install) is the command's outcome, whatever the job's state.
  if (callFailure !== undefined) throw fromControllerError(callFailure);
  const { job } = await client.jobs.get.query({ jobId });
  if (output.json) output.printJson(job);
  else if (job.report) output.result(formatReport(job.id, job.report));
  if (job.state === 'done' && job.report?.landed) {
    output.info(`job ${job.id}: landed (${job.report.landed.reason}); its work so far is installed. Run again to continue`);
    return EXIT_CODES.ok;
  }
  if (job.state === 'done') return EXIT_CODES.ok;
  if (job.state === 'verified') {
    output.info(`job ${job.id}: the archive is verified at home and waits; install it with: plexlift install ${job.id}`);
    return EXIT_CODES.ok;
  }
  output.error(`job ${job.id} ${job.state}: ${job.error?.message ?? ''}`);
  if (job.error && isErrorCode(job.error.code)) return exitStatusOf(job.error.code);
  // A job that ended without a code the table knows (none recorded, or a newer daemon's).
  return job.state === 'aborted' ? exitStatusOf('JOB_ABORTED') : EXIT_CODES.jobFailed;
}
