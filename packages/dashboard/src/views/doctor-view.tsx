import { useState } from 'preact/hooks';
import type { DaemonClient, Outputs } from '../api.js';
import { messageOf } from '../format.js';

type DoctorCheck = Outputs['daemon']['doctor'][number];

/**
 * `plexlift doctor` as the daemon sees it, run on demand only: it asks plex.tv and the cloud's API
 * (10 s at most), so it is the admin's, not something a page polls.
 */
export function DoctorView({ client, canAct }: { client: DaemonClient; canAct: boolean }) {
  const [state, setState] = useState<{ busy: boolean; checks?: DoctorCheck[]; error?: string }>({ busy: false });
  const run = () => {
    setState((previous) => ({ busy: true, ...(previous.checks ? { checks: previous.checks } : {}) }));
    client.daemon.doctor.query().then(
      (checks) => setState({ busy: false, checks }),
      (failure: unknown) => setState({ busy: false, error: messageOf(failure) }),
    );
  };
  const { checks } = state;
  const failing = checks?.filter((c) => !c.ok).length ?? 0;
  return (
    <section aria-labelledby="doctor-title">
      <h2 id="doctor-title">Doctor</h2>
      <p>The config, home Plex, plex.tv, the media remote, the disk and the cloud's API, each ok or what to fix. It changes nothing.</p>
      {canAct ? (
        <button type="button" onClick={run} disabled={state.busy} aria-busy={state.busy ? 'true' : undefined}>
          {state.busy ? 'Checking… (up to 10 s)' : checks ? 'Run the doctor again' : 'Run the doctor'}
        </button>
      ) : (
        <p class="muted">
          The doctor is for a full session: its checks ask plex.tv and the cloud's API. Run <code>plexlift doctor</code> on the server.
        </p>
      )}
      {state.error && <p role="alert">The doctor did not run: {state.error}</p>}
      {checks && (
        <>
          <p role="status">{failing === 0 ? `All ${checks.length} checks ok.` : `${failing} of ${checks.length} checks to fix.`}</p>
          <ul class="checks">
            {checks.map((check) => (
              <li key={check.name}>
                <span class={check.ok ? 'ok' : 'fix'}>{check.ok ? 'ok' : 'FIX'}</span> <strong>{check.name}</strong>: {check.detail}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
