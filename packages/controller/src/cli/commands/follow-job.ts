import { EXIT_CODES, exitStatusOf, isErrorCode, isFinal } from '@plexlift/shared';
import type { ControllerClient } from '../../client.js';
import { fromControllerError } from '../controller-connection.js';
import { createJobProgress } from '../job-progress.js';
import type { Output } from '../output.js';
import { formatReport } from './job-report-view.js';

/**
 * Follows a job's events until it ends and prints its report; resolves with the job's exit
 * status: 0 when done (or verified and waiting for `plexlift install`), else the status of the
 * job's error code in ERROR_CODES (e.g. 6 for a full disk, 7 for a refused token).
 */
export async function followJob(client: ControllerClient, jobId: string, output: Output, stream: NodeJS.WriteStream = process.stderr): Promise<number> {
  const progress = createJobProgress(stream);
  const finished = new Promise<void>((resolve, reject) => {
    const subscription = client.jobs.events.subscribe(
      { jobId },
      {
        onData: ({ data }) => {
          if (!output.json) progress.event(data.event);
          if ((data.event.type === 'phase:complete' && data.event.phase === 'install') || data.event.type === 'phase:fail') {
            subscription.unsubscribe();
            resolve();
          }
        },
        onError: (error) => reject(fromControllerError(error)),
      },
    );
  });
  // Waits `ms` or until the events say the job ended; the timer goes with the wait, so it never
  // holds the CLI open after the job's end.
  const pause = async (ms: number) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([finished, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
    } finally {
      clearTimeout(timer);
    }
  };
  // A job that ends without an install event (an abort before it started) is seen by polling.
  for (;;) {
    const { job, phases } = await client.jobs.get.query({ jobId });
    // A --no-install job ends at the verified archive, once its machine is deleted and the
    // install marked skipped; that event is printed before the report.
    const waitingForInstall = job.state === 'verified' && job.options.noInstall && phases.some((p) => p.phase === 'install' && p.state === 'skipped');
    if (waitingForInstall) await pause(5_000);
    if (isFinal(job.state) || waitingForInstall) break;
    await pause(1_000);
  }
  progress.stop();
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
