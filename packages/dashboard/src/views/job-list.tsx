import type { JobSummary } from '../api.js';
import { formatTime } from '../format.js';

/** Every job, newest first: its state and when it started; one is chosen to follow. */
export function JobList({ jobs, chosen, onChoose }: { jobs: JobSummary[]; chosen: string | undefined; onChoose: (id: string) => void }) {
  if (jobs.length === 0)
    return (
      <p>
        No job yet. Start one with <code>plexlift run</code>.
      </p>
    );
  return (
    <ul class="jobs">
      {jobs.map((job) => (
        <li key={job.id}>
          <button type="button" class="job" aria-current={job.id === chosen ? 'true' : undefined} onClick={() => onChoose(job.id)}>
            <span class="job-id">{job.id}</span>
            <span class={`state state-${job.state}`}>{job.state}</span>
            <span class="muted">
              {job.spec.mode} on {job.provider}, {formatTime(job.createdAt)}
            </span>
          </button>
        </li>
      ))}
    </ul>
  );
}
