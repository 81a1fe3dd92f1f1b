import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { connect, OTHER_ORIGIN_TEXT, type DaemonClient, type LineState } from './api.js';
import { navigate, useRoute, type Route } from './route.js';
import { BackupsView } from './views/backups-view.js';
import { DoctorView } from './views/doctor-view.js';
import { JobsView } from './views/jobs-view.js';
import { ProgressView } from './views/progress-view.js';
import { RunView, type StartedJob } from './views/run-view.js';
import { ScheduleView } from './views/schedule-view.js';
import { ViewNav } from './views/view-nav.js';
import { VmsView } from './views/vms-view.js';

/** The page: signed in or not, the views to go between, the one the address names (the jobs by default). */
export function App() {
  const [line, setLine] = useState<LineState>('connecting');
  const daemon = useMemo(() => connect(setLine), []);
  const [role, setRole] = useState<'admin' | 'viewer' | undefined>();
  const route = useRoute();
  // A run just started: said once on its job's page.
  const [started, setStarted] = useState<StartedJob | undefined>();

  useEffect(() => () => daemon.close(), [daemon]);
  useEffect(() => {
    if (line !== 'open') return;
    let live = true;
    // Asked again at each reconnect (this effect runs per open line): a refused one leaves the role unknown, so no action shows.
    void daemon.client.dashboard.whoAmI
      .query()
      .then((me) => live && setRole(me.role))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [daemon, line]);

  // Another view: a screen reader is taken to its heading, as after a page load.
  const main = useRef<HTMLElement>(null);
  const shownView = useRef(route.view);
  useEffect(() => {
    if (shownView.current === route.view) return;
    shownView.current = route.view;
    const heading = main.current?.querySelector('h2');
    if (heading) {
      heading.tabIndex = -1;
      heading.focus();
    }
  }, [route.view]);

  const [signOutError, setSignOutError] = useState<string | undefined>();
  const signOut = () =>
    void fetch('signout', { method: 'POST', credentials: 'same-origin' })
      .then(async (answer) => (answer.ok ? location.reload() : setSignOutError(`Not signed out: ${(await answer.text()).trim()}`)))
      .catch((failure: unknown) => setSignOutError(`Not signed out: ${(failure as Error).message}`));
  const onStarted = (job: StartedJob) => {
    setStarted(job);
    navigate({ view: 'jobs', jobId: job.id });
  };

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
        {line !== 'signed-out' && line !== 'other-origin' && line !== 'connecting' && <ViewNav current={route.view} canAct={role === 'admin'} />}
      </header>
      <main ref={main}>
        {line === 'other-origin' ? (
          <p role="alert">{OTHER_ORIGIN_TEXT}</p>
        ) : line === 'signed-out' ? (
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
          <>
            {started && route.view === 'jobs' && route.jobId === started.id && (
              <p role="status">
                Started job {started.id}: a {started.spec.mode} job on {started.provider}.
              </p>
            )}
            {line === 'open' && role && <RouteView route={route} client={daemon.client} canAct={role === 'admin'} onStarted={onStarted} />}
          </>
        )}
      </main>
    </>
  );
}

/** The view the address names; each reads what it shows when it opens. */
function RouteView({ route, client, canAct, onStarted }: { route: Route; client: DaemonClient; canAct: boolean; onStarted: (job: StartedJob) => void }) {
  switch (route.view) {
    case 'jobs':
      return <JobsView client={client} jobId={route.jobId} canAct={canAct} />;
    case 'run':
      return <RunView client={client} canAct={canAct} onStarted={onStarted} />;
    case 'progress':
      return <ProgressView client={client} />;
    case 'schedule':
      return <ScheduleView client={client} />;
    case 'vms':
      return <VmsView client={client} />;
    case 'backups':
      return <BackupsView client={client} canAct={canAct} />;
    case 'doctor':
      return <DoctorView client={client} canAct={canAct} />;
  }
}
