import { useEffect, useState } from 'preact/hooks';
import type { DaemonClient, JobSummary } from '../api.js';
import { navigate } from '../route.js';
import { JobList } from './job-list.js';
import { JobView } from './job-view.js';

/** The jobs, newest first, and the one followed: the route's (`#/jobs/ID`), else the newest. */
export function JobsView({ client, jobId, canAct }: { client: DaemonClient; jobId: string | undefined; canAct: boolean }) {
  const [jobs, setJobs] = useState<JobSummary[]>([]);
  useEffect(() => {
    let live = true;
    const load = () =>
      void client.jobs.list
        .query({ limit: 50 })
        .then((list) => live && setJobs(list))
        .catch(() => undefined);
    load();
    // New jobs and states: the list is small, asked again every few seconds.
    const timer = setInterval(load, 5_000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [client]);
  const chosen = jobId ?? jobs[0]?.id;
  return (
    <div class="columns">
      <nav aria-label="Jobs">
        <h2>Jobs</h2>
        <JobList jobs={jobs} chosen={chosen} onChoose={(id) => navigate({ view: 'jobs', jobId: id })} />
      </nav>
      {chosen && <JobView key={chosen} client={client} jobId={chosen} canAct={canAct} />}
    </div>
  );
}
