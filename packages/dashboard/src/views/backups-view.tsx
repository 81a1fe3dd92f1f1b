import { useState } from 'preact/hooks';
import type { DaemonClient } from '../api.js';
import { formatNumber, formatTime } from '../format.js';
import { hrefOf } from '../route.js';
import { useQuery } from '../use-query.js';
import { ConfirmButton, OutcomeLine, type Outcome } from './confirm-button.js';
import { RefreshButton } from './refresh-button.js';

/**
 * The backups home installs made, newest first (`plexlift backups list`), and for the admin the
 * rollback to one, asked first: one at a time, every button waits while Plex is put back.
 */
export function BackupsView({ client, canAct }: { client: DaemonClient; canAct: boolean }) {
  const backups = useQuery(() => client.home.backups.query(), [client]);
  const [rollingBack, setRollingBack] = useState<string | undefined>();
  const [outcome, setOutcome] = useState<Outcome | undefined>();
  const list = backups.answer;
  const rollBack = (name: string) => {
    setRollingBack(name);
    return client.home.rollback
      .mutate({ backup: name })
      .then(
        (done) => `Rolled back to ${done.backup} (made before job ${done.jobId}): home Plex is running again.`,
        (failure: unknown) => {
          // The daemon's refusal carries its answer; a cut line does not, and then nobody here knows how it ended.
          if ((failure as { data?: unknown }).data !== undefined) throw failure;
          return `The line to the daemon was cut before it answered: the rollback of ${name} may have ended or still run; the daemon's log says which.`;
        },
      )
      .finally(() => setRollingBack(undefined));
  };
  return (
    <section aria-labelledby="backups-title">
      <h2 id="backups-title">Backups</h2>
      <RefreshButton query={backups} />
      {backups.error && <p role="alert">Cannot list the backups: {backups.error}</p>}
      <OutcomeLine outcome={outcome} />
      {!list ? (
        backups.loading && <p aria-busy="true">Reading the backups…</p>
      ) : list.length === 0 ? (
        <p>No backup yet: each install makes one of home Plex first.</p>
      ) : (
        <ul class="cards">
          {list.map((backup) => (
            <li key={backup.name}>
              <h3>
                <code>{backup.name}</code>
              </h3>
              <p>
                Made {formatTime(Date.parse(backup.createdAt))} before job <a href={hrefOf({ view: 'jobs', jobId: backup.jobId })}>{backup.jobId}</a>:{' '}
                {formatNumber(backup.replaced)} {backup.replaced === 1 ? 'file' : 'files'} it replaced, {formatNumber(backup.added)} it added.
              </p>
              {canAct && (
                <ConfirmButton
                  label="Roll back…"
                  accessibleLabel={`Roll back to ${backup.name}…`}
                  busyLabel="Rolling back…"
                  danger
                  disabled={rollingBack !== undefined}
                  title={`Roll back to ${backup.name}?`}
                  confirmLabel="Roll back"
                  cancelLabel="Keep home as it is"
                  failedPrefix="Not rolled back"
                  act={() => rollBack(backup.name)}
                  onOutcome={(told) => {
                    setOutcome(told);
                    if (told) backups.reload();
                  }}
                >
                  <p>
                    Home Plex's database is put back as it was before job {backup.jobId} (backup made {formatTime(Date.parse(backup.createdAt))}). Home Plex is
                    stopped and started, and what it learnt since is lost. It takes up to a few minutes.
                  </p>
                </ConfirmButton>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
