import type { DaemonClient, Outputs } from '../api.js';
import { formatDoneOf, formatNumber, formatTime } from '../format.js';
import { hrefOf } from '../route.js';
import { useQuery } from '../use-query.js';
import { RefreshButton } from './refresh-button.js';

type LibraryProgress = Outputs['jobs']['progress'];

/** `plexlift progress` as a page: each section's analyses as bars, the runs so far, what is left and what it should take. */
export function ProgressView({ client }: { client: DaemonClient }) {
  const progress = useQuery(() => client.jobs.progress.query(), [client]);
  const { answer } = progress;
  return (
    <section aria-labelledby="progress-title">
      <h2 id="progress-title">Progress across runs</h2>
      <RefreshButton query={progress} />
      {progress.error && <p role="alert">Cannot show the progress: {progress.error}</p>}
      {!answer ? (
        progress.loading && <p aria-busy="true">Reading the library…</p>
      ) : (
        <>
          <p class="muted">Library {answer.library}</p>
          <Summary progress={answer} />
          {answer.sections.length === 0 ? (
            <p>No library sections.</p>
          ) : (
            <ul class="cards">
              {answer.sections.map((section) => (
                <li key={section.id}>
                  <h3>
                    {section.title} <span class="muted">{section.type}</span>
                  </h3>
                  {section.sonic && <Bar name="Sonic" title={section.title} done={section.sonic.analyzed} total={section.sonic.total} />}
                  {section.analyses.map((analysis) => (
                    <Bar key={analysis.name} name={analysis.name} title={section.title} done={analysis.done} total={analysis.total} />
                  ))}
                  {!section.sonic && section.analyses.length === 0 && <p class="muted">Nothing to analyse here.</p>}
                </li>
              ))}
            </ul>
          )}
          <Runs runs={answer.runs} />
        </>
      )}
    </section>
  );
}

/** One analysis of one section: done of total, as a bar and in words. */
function Bar({ name, title, done, total }: { name: string; title: string; done: number; total: number }) {
  return (
    <div class="bar">
      <span>
        {name}: {formatDoneOf(done, total)}
      </span>
      <progress max={Math.max(total, 1)} value={total > 0 ? done : 1} aria-label={`${name} of ${title}`} />
    </div>
  );
}

/** What is left and, once a run measured a rate, the runs, hours and euros it should take. */
function Summary({ progress }: { progress: LibraryProgress }) {
  const { remaining, estimate, complete } = progress;
  const names = [...new Set(progress.sections.flatMap((s) => s.analyses.map((a) => a.name)))].join(', ') || 'other analyses';
  const left = `${formatNumber(remaining.tracks)} Sonic ${remaining.tracks === 1 ? 'track' : 'tracks'}, ${formatNumber(remaining.analyses)} ${remaining.analyses === 1 ? 'item' : 'items'} of ${names}`;
  return (
    <div class="summary" data-testid="progress-summary">
      <p>
        {complete ? (
          <>
            <strong>Complete:</strong> nothing left that a run would do{remaining.tracks + remaining.analyses > 0 ? ` (${left}, not done by the runs)` : ''}.
          </>
        ) : (
          <>
            <strong>Left:</strong> {left}.
          </>
        )}
      </p>
      {estimate ? (
        <p>
          <strong>Estimate:</strong> {estimate.runs} more {estimate.runs === 1 ? 'run' : 'runs'}, {estimate.hours} h, {estimate.euros.toFixed(2)} € (
          {estimate.basis}).
        </p>
      ) : (
        !complete && remaining.tracks > 0 && <p class="muted">No estimate yet: no run has measured a Sonic rate.</p>
      )}
    </div>
  );
}

/** The runs across bursts, newest first, each a link to its job. */
function Runs({ runs }: { runs: LibraryProgress['runs'] }) {
  if (runs.length === 0) return <p>No runs yet.</p>;
  return (
    <div class="table-scroll" tabIndex={0} role="region" aria-label="Runs, scrollable">
      <table>
        <caption>Runs, newest first</caption>
        <thead>
          <tr>
            <th scope="col">run</th>
            <th scope="col">started</th>
            <th scope="col">hours</th>
            <th scope="col">cost</th>
            <th scope="col">tracks</th>
            <th scope="col">outcome</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <tr key={run.jobId}>
              <th scope="row">
                <a href={hrefOf({ view: 'jobs', jobId: run.jobId })}>{run.jobId}</a>
              </th>
              <td>{formatTime(run.startedAt)}</td>
              <td>{run.hours === undefined ? '' : run.hours.toFixed(2)}</td>
              <td>{run.cost === undefined ? '' : `${run.cost.toFixed(2)} €`}</td>
              <td>{run.tracksDone === undefined ? '' : formatNumber(run.tracksDone)}</td>
              <td class={`outcome-${run.outcome.replace(' ', '-')}`}>{run.schedule ? `${run.outcome} (schedule ${run.schedule})` : run.outcome}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
