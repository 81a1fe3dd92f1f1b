import type { JobDetail } from '../api.js';
import { formatDuration } from '../format.js';

type Report = NonNullable<JobDetail['job']['report']>;

const KINDS = ['movie', 'episode', 'track', 'photo'] as const;

/** A job's report, as `plexlift status` prints it: per library before → after, Sonic, phases, time, cost, the estimate against it. */
export function JobReport({ report }: { report: Report }) {
  const { libraries, phases, estimate } = report;
  return (
    <section aria-labelledby="report-title">
      <h3 id="report-title">Report</h3>
      {report.landed && (
        <p>
          Incomplete: landed ({report.landed.reason}){report.landed.unfinished.length > 0 ? `; not finished: ${report.landed.unfinished.join(', ')}` : ''}. Run
          again to continue.
        </p>
      )}
      {libraries && (
        <table>
          <caption>
            {report.librariesAsShipped ? 'The library before → as the VM shipped it (not installed yet)' : 'The library before → after the job'}
          </caption>
          <thead>
            <tr>
              <th scope="col">library</th>
              {KINDS.map((kind) => (
                <th scope="col" key={kind}>
                  {kind}s
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {libraries.sections.map((section) => (
              <tr key={section.id}>
                <th scope="row">{section.title}</th>
                {KINDS.map((kind) => {
                  const before = section.before?.counts[kind] ?? 0;
                  const after = section.after?.counts[kind] ?? 0;
                  const change = after - before;
                  return <td key={kind}>{before === 0 && after === 0 ? '' : `${before} → ${after} (${change >= 0 ? '+' : ''}${change})`}</td>;
                })}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {report.sonicSections?.map((section) =>
        section.after ? (
          <p key={section.id}>
            Sonic {section.title}: {section.before.analyzed} → {section.after.analyzed} of {section.after.total} tracks
          </p>
        ) : null,
      )}
      {phases && (
        <p>
          Phases:{' '}
          {Object.entries(phases)
            .map(
              ([name, phase]) => `${name} ${phase.state === 'skipped' ? 'skipped' : phase.seconds === undefined ? '?' : formatDuration(phase.seconds * 1000)}`,
            )
            .join(', ')}
        </p>
      )}
      {report.hours !== undefined && (
        <p>
          Time {formatDuration(report.hours * 3_600_000)}, cost {report.cost ?? 0} €
          {estimate
            ? ` (estimated ${formatDuration(estimate.seconds * 1000)}${estimate.cost === undefined ? '' : `, ${estimate.cost} €`}: ${estimate.basis})`
            : ''}
        </p>
      )}
    </section>
  );
}
