import type { DaemonClient, Outputs } from '../api.js';
import { formatRoughDuration, formatTime } from '../format.js';
import { hrefOf } from '../route.js';
import { useQuery } from '../use-query.js';
import { RefreshButton } from './refresh-button.js';

type ScheduleEntry = Outputs['jobs']['schedule'][number];

/** `plexlift schedule` as a page: each entry's cron and window, its next start in this browser's time, its last outcome. */
export function ScheduleView({ client }: { client: DaemonClient }) {
  const schedule = useQuery(() => client.jobs.schedule.query(), [client]);
  const entries = schedule.answer;
  const now = Date.now();
  return (
    <section aria-labelledby="schedule-title">
      <h2 id="schedule-title">Schedule</h2>
      <RefreshButton query={schedule} />
      {schedule.error && <p role="alert">Cannot show the schedule: {schedule.error}</p>}
      {!entries ? (
        schedule.loading && <p aria-busy="true">Reading the schedule…</p>
      ) : entries.length === 0 ? (
        <p>
          No scheduled bursts: the config has no <code>schedule</code> entries.
        </p>
      ) : (
        <ul class="cards">
          {entries.map((entry) => (
            <li key={entry.name}>
              <h3>{entry.name}</h3>
              <dl>
                <dt>When</dt>
                <dd>
                  <code>{entry.cron}</code>, for {entry.windowHours} h{entry.until === 'complete' ? ', until the library is complete' : ''}
                </dd>
                <dt>Next start</dt>
                <dd>{nextStartOf(entry, now)}</dd>
                <dt>Last</dt>
                <dd>
                  <LastOutcome entry={entry} />
                </dd>
              </dl>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** "1/6/2026, 22:00:00 (in 3 h)", or why there is none. */
function nextStartOf(entry: ScheduleEntry, now: number): string {
  if (entry.finished) return 'none: finished, the library is complete';
  if (entry.nextStart === undefined) return 'none: the cron matches no later date';
  const wait = entry.nextStart - now;
  return `${formatTime(entry.nextStart)} (in ${wait < 60_000 ? 'under a minute' : formatRoughDuration(wait)})`;
}

/** "started job-… (time)", "skipped: job … is still running (time)", or never. */
function LastOutcome({ entry }: { entry: ScheduleEntry }) {
  const { last } = entry;
  if (!last) return <>never fired</>;
  return (
    <>
      <span class={`outcome-${last.outcome}`}>{last.outcome}</span>
      {last.jobId && (
        <>
          {' '}
          <a href={hrefOf({ view: 'jobs', jobId: last.jobId })}>{last.jobId}</a>
        </>
      )}
      {last.outcome === 'started' ? '' : `: ${last.detail}`} <span class="muted">({formatTime(last.at)})</span>
    </>
  );
}
