import type { inferRouterInputs } from '@trpc/server';
import type { AppRouter } from '@plexlift/controller/client';
import { useId, useRef, useState } from 'preact/hooks';
import type { DaemonClient, Outputs } from '../api.js';
import { messageOf } from '../format.js';
import { RunPlan, type JobPlan } from './run-plan.js';

type RunRequest = inferRouterInputs<AppRouter>['jobs']['run'];
export type StartedJob = Outputs['jobs']['run'];

/**
 * `plexlift run` as a form, always through its plan: "Plan…" asks the daemon what the run would
 * do (its checks, its estimate) and shows it in a dialog; only that dialog starts it, with the
 * very request planned, and not while a check fails.
 */
export function RunView({ client, canAct, onStarted }: { client: DaemonClient; canAct: boolean; onStarted: (job: StartedJob) => void }) {
  const [mode, setMode] = useState<'delta' | 'scan'>('delta');
  const [sections, setSections] = useState('');
  const [skipSonic, setSkipSonic] = useState(false);
  const [noInstall, setNoInstall] = useState(false);
  const [losesHistory, setLosesHistory] = useState(false);
  const [busy, setBusy] = useState<'planning' | 'starting' | undefined>();
  const [planned, setPlanned] = useState<{ request: RunRequest; plan: JobPlan } | undefined>();
  const [error, setError] = useState<string | undefined>();
  const dialog = useRef<HTMLDialogElement>(null);
  const id = useId();

  if (!canAct)
    return (
      <section aria-labelledby="run-title">
        <h2 id="run-title">Start a run</h2>
        <p>
          Starting a run is for a full session: <code>plexlift dashboard</code> without <code>--read-only</code>.
        </p>
      </section>
    );

  const plan = (event: Event) => {
    event.preventDefault();
    const request: RunRequest = {
      mode,
      sections: sections
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean),
      skipSonic,
      noInstall,
      ...(mode === 'scan' && losesHistory ? { yes: true } : {}),
    };
    setBusy('planning');
    setError(undefined);
    client.jobs.plan
      .query(request)
      .then((answer) => {
        setPlanned({ request, plan: answer });
        dialog.current?.showModal();
      })
      .catch((failure: unknown) => setError(`No plan: ${messageOf(failure)}`))
      .finally(() => setBusy(undefined));
  };
  const start = () => {
    if (!planned) return;
    dialog.current?.close();
    setBusy('starting');
    client.jobs.run
      .mutate(planned.request)
      .then(onStarted)
      .catch((failure: unknown) => {
        setError(`Not started: ${messageOf(failure)}`);
        setBusy(undefined);
      });
  };
  const failing = planned?.plan.checks.filter((c) => !c.ok) ?? [];
  return (
    <section aria-labelledby="run-title">
      <h2 id="run-title">Start a run</h2>
      <form class="run-form" onSubmit={plan}>
        <label>
          Mode
          <select value={mode} onChange={(e) => setMode(e.currentTarget.value === 'scan' ? 'scan' : 'delta')}>
            <option value="delta">delta: what is new or changed in the home library</option>
            <option value="scan">scan: a new library (every id changes)</option>
          </select>
        </label>
        <label>
          Sections
          <input
            type="text"
            value={sections}
            placeholder="every section"
            aria-describedby={`${id}-sections`}
            onInput={(e) => setSections(e.currentTarget.value)}
          />
        </label>
        <p id={`${id}-sections`} class="muted hint">
          Names or ids, comma-separated (Music, Movies); empty for every section.
        </p>
        <label class="switch">
          <input type="checkbox" checked={skipSonic} onChange={(e) => setSkipSonic(e.currentTarget.checked)} /> Skip Sonic
        </label>
        <label class="switch">
          <input type="checkbox" checked={noInstall} onChange={(e) => setNoInstall(e.currentTarget.checked)} /> No install: stop once the archive is verified at
          home (install it later)
        </label>
        {mode === 'scan' && (
          <label class="switch">
            <input type="checkbox" checked={losesHistory} onChange={(e) => setLosesHistory(e.currentTarget.checked)} /> Scan even if home has watch history (it
            does not carry over to the new ids)
          </label>
        )}
        <div>
          <button type="submit" disabled={busy !== undefined} aria-busy={busy ? 'true' : undefined}>
            {busy === 'planning' ? 'Planning…' : busy === 'starting' ? 'Starting…' : 'Plan…'}
          </button>
        </div>
      </form>
      <p class="muted">Nothing starts before its plan is shown: the checks, the time and what it costs.</p>
      {error && <p role="alert">{error}</p>}
      <dialog ref={dialog} aria-labelledby={`${id}-title`}>
        <h3 id={`${id}-title`}>Start this run?</h3>
        {planned && <RunPlan plan={planned.plan} />}
        {failing.length > 0 && (
          <p id={`${id}-why`} class="fix">
            Start is disabled: fix {failing.map((c) => c.name).join(', ')} first, then plan again.
          </p>
        )}
        <div class="buttons">
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
          <button type="button" onClick={start} disabled={failing.length > 0} aria-describedby={failing.length > 0 ? `${id}-why` : undefined}>
            Start the run
          </button>
        </div>
      </dialog>
    </section>
  );
}
