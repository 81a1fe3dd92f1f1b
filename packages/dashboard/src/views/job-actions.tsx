import { useState } from 'preact/hooks';
import type { DaemonClient, JobDetail } from '../api.js';
import { ConfirmButton, OutcomeLine, type Outcome } from './confirm-button.js';

type Job = JobDetail['job'];

/** Final states: nothing more happens to such a job. */
const ENDED = new Set(['done', 'failed', 'aborted']);

/** Where a landing changes something: the machine is being made or works (the runner says when it is on its way home already). */
const LANDABLE = new Set(['provisioning', 'running']);

/**
 * Whether `plexlift install JOB` would take the job (job-install.ts, installWaitingJob): a
 * `--no-install` job resting verified, or a job whose install failed. Another job passes through
 * `verified` on its way to its own install, which is not offered.
 */
export function installable(job: Job, phases: JobDetail['phases']): boolean {
  // Once its machine is deleted: until then the runner still drives it, and refuses an install.
  if (job.state === 'verified') return job.options.noInstall && phases.some((p) => p.phase === 'teardown' && p.state === 'done');
  return job.state === 'failed' && phases.some((p) => p.phase === 'install' && p.state === 'failed');
}

/** The admin's actions on one job, each asked first with what it will do: land, install, abort. */
export function JobActions({ client, detail, onChanged }: { client: DaemonClient; detail: JobDetail; onChanged: () => void }) {
  const { job, phases } = detail;
  const [allowDeletions, setAllowDeletions] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | undefined>();
  // The job looks different after each action: it is asked again.
  const said = (told: Outcome | undefined) => {
    setOutcome(told);
    if (told) onChanged();
  };
  const canLand = LANDABLE.has(job.state) && !job.report?.landed;
  const canInstall = installable(job, phases);
  const canAbort = !ENDED.has(job.state) && job.state !== 'installing';
  if (!canLand && !canInstall && !canAbort && !outcome) return null;
  return (
    <section aria-label="Actions" class="actions">
      {canLand && (
        <ConfirmButton
          label="Land job…"
          busyLabel="Landing…"
          title={`Land job ${job.id} now?`}
          confirmLabel="Land it"
          cancelLabel="Keep it running"
          failedPrefix="Not landed"
          act={() =>
            client.jobs.land.mutate({ jobId: job.id, reason: 'asked from the dashboard' }).then((landing) => `Job ${landing.jobId}: ${landing.detail}.`)
          }
          onOutcome={said}
        >
          <p>
            The job brings home the work done so far and installs it into home Plex (stopped and started, a backup made first). What it did not finish waits for
            the next run.
          </p>
        </ConfirmButton>
      )}
      {canInstall && (
        <ConfirmButton
          label="Install…"
          busyLabel="Installing…"
          title={`Install job ${job.id} into home Plex?`}
          confirmLabel="Install"
          cancelLabel="Not now"
          failedPrefix="Not installed"
          act={() => client.jobs.install.mutate({ jobId: job.id, allowDeletions }).then((installed) => `Installed: job ${installed.id} is ${installed.state}.`)}
          onOutcome={said}
        >
          <p>
            Home Plex is stopped, a backup of its database is made, the job's verified archive goes in, and Plex is started again. It takes a few minutes; the
            backup can be put back from Backups.
          </p>
          <label class="switch">
            <input type="checkbox" checked={allowDeletions} onChange={(e) => setAllowDeletions(e.currentTarget.checked)} /> Install even if the job lost more
            items than the deletion cap
          </label>
        </ConfirmButton>
      )}
      {canAbort && (
        <ConfirmButton
          label="Abort job…"
          busyLabel="Aborting…"
          danger
          title={`Abort job ${job.id}?`}
          confirmLabel="Abort the job"
          cancelLabel="Keep it running"
          failedPrefix="Not aborted"
          act={() => client.jobs.abort.mutate({ jobId: job.id, reason: 'asked from the dashboard' }).then(() => 'Aborted: its machine is being deleted.')}
          onOutcome={said}
        >
          <p>Its machine is deleted and nothing it did is installed. The home library stays as it is.</p>
        </ConfirmButton>
      )}
      <OutcomeLine outcome={outcome} />
    </section>
  );
}
