import type { DaemonClient } from '../api.js';
import { formatRoughDuration } from '../format.js';
import { hrefOf } from '../route.js';
import { useQuery } from '../use-query.js';
import { RefreshButton } from './refresh-button.js';

/** `plexlift vms` as a page: every machine, volume and IP the providers hold for plexlift, its job, owned or orphan, and age. */
export function VmsView({ client }: { client: DaemonClient }) {
  const vms = useQuery(() => client.jobs.vms.query(), [client]);
  const holdings = vms.answer;
  const now = Date.now();
  return (
    <section aria-labelledby="vms-title">
      <h2 id="vms-title">VMs and cloud resources</h2>
      <RefreshButton query={vms} />
      {vms.error && <p role="alert">Cannot list what the providers hold: {vms.error}</p>}
      {!holdings ? (
        vms.loading && <p aria-busy="true">Asking the providers…</p>
      ) : holdings.length === 0 ? (
        <p>Nothing: no machine, volume or IP of plexlift exists.</p>
      ) : (
        <>
          <p class="muted">An orphan (what no live job owns) is the reaper's: the daemon marks it on one pass and deletes it on the next, every 10 minutes.</p>
          <ul class="cards">
            {holdings.map((holding, i) => (
              <li key={`${holding.provider}-${holding.jobId}-${i}`}>
                <h3>{holding.description}</h3>
                <dl>
                  <dt>Provider</dt>
                  <dd>{holding.provider}</dd>
                  <dt>Job</dt>
                  <dd>
                    {holding.jobState === undefined ? (
                      `${holding.jobId} (unknown job)`
                    ) : (
                      <>
                        <a href={hrefOf({ view: 'jobs', jobId: holding.jobId })}>{holding.jobId}</a> ({holding.jobState})
                      </>
                    )}
                  </dd>
                  <dt>Owned</dt>
                  <dd class={holding.owned ? undefined : 'fix'}>{holding.owned ? 'yes, by its live job' : 'no: an orphan'}</dd>
                  <dt>Age</dt>
                  <dd>{holding.createdAt === undefined ? 'unknown' : formatRoughDuration(now - holding.createdAt)}</dd>
                </dl>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
