import { useEffect, useMemo, useState } from 'preact/hooks';
import { connect, type JobSummary, type LineState } from './api.js';
import { JobList } from './views/job-list.js';
import { JobView } from './views/job-view.js';

/** The page: signed in or not, the jobs, the chosen one (the newest by default). */
export function App() {
  const [line, setLine] = useState<LineState>('connecting');
  const daemon = useMemo(() => connect(setLine), []);
  const [role, setRole] = useState<'admin' | 'viewer' | undefined>();
  const [jobs, setJobs] = useState<JobSummary[]>([]);
  const [chosen, setChosen] = useState<string | undefined>();

  useEffect(() => () => daemon.close(), [daemon]);
  useEffect(() => {
    if (line !== 'open') return;
    let live = true;
    const load = () =>
      void daemon.client.jobs.list
        .query({ limit: 50 })
        .then((list) => {
          if (!live) return;
          setJobs(list);
          setChosen((current) => current ?? list[0]?.id);
        })
        .catch(() => undefined);
    void daemon.client.dashboard.whoAmI.query().then((me) => live && setRole(me.role));
    load();
    // New jobs and states: the list is small, asked again every few seconds.
    const timer = setInterval(load, 5_000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [daemon, line]);

  const [signOutError, setSignOutError] = useState<string | undefined>();
  const signOut = () =>
    void fetch('/signout', { method: 'POST', credentials: 'same-origin' })
      .then(async (answer) => (answer.ok ? location.reload() : setSignOutError(`Not signed out: ${(await answer.text()).trim()}`)))
      .catch((failure: unknown) => setSignOutError(`Not signed out: ${(failure as Error).message}`));

  return (
    <>
      <header>
        <h1>plexlift</h1>
        <p class="muted" aria-live="polite">
          {line === 'open' ? (role === 'viewer' ? 'signed in, read-only' : 'signed in') : line === 'away' ? 'the daemon does not answer; trying again…' : ''}
        </p>
        {line === 'open' && (
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        )}
        {signOutError && <p role="alert">{signOutError}</p>}
      </header>
      <main>
        {line === 'signed-out' ? (
          <section aria-labelledby="signin-title">
            <h2 id="signin-title">Sign in</h2>
            <p>
              Run <code>plexlift dashboard</code> on the server and open the link it prints (it works once, for ten minutes). For a read-only link:{' '}
              <code>plexlift dashboard --read-only</code>.
            </p>
          </section>
        ) : line === 'connecting' ? (
          <p aria-busy="true">Connecting…</p>
        ) : (
          <div class="columns">
            <nav aria-label="Jobs">
              <h2>Jobs</h2>
              <JobList jobs={jobs} chosen={chosen} onChoose={setChosen} />
            </nav>
            {chosen && line === 'open' && <JobView key={chosen} client={daemon.client} jobId={chosen} canAct={role === 'admin'} />}
          </div>
        )}
      </main>
    </>
  );
}
