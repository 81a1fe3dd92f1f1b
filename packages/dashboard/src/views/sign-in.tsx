import { useState } from 'preact/hooks';

/**
 * The one-time link's page (`/signin#CODE`): the code stays in the browser (a fragment is never
 * sent), and is spent only when the person asks, so a chat's link preview spends nothing.
 */
export function SignIn() {
  const code = location.hash.slice(1);
  const [state, setState] = useState<{ busy: boolean; error?: string }>({ busy: false });
  const signIn = () => {
    setState({ busy: true });
    fetch('signin', { method: 'POST', body: new URLSearchParams({ code }), credentials: 'same-origin' })
      .then(async (answer) => {
        // Relative: the dashboard beside this page, under a proxy's path too.
        if (answer.ok) return location.replace('./');
        setState({ busy: false, error: (await answer.text()).trim() });
      })
      .catch((failure: unknown) => setState({ busy: false, error: `The daemon did not answer (${(failure as Error).message}).` }));
  };
  return (
    <>
      <header>
        <h1>plexlift</h1>
      </header>
      <main>
        <section aria-labelledby="signin-title">
          <h2 id="signin-title">Sign in</h2>
          {code === '' ? (
            <p>
              This address lacks its sign-in code: open the whole link <code>plexlift dashboard</code> printed.
            </p>
          ) : (
            <>
              <p>Sign in to plexlift on this browser? The link works once.</p>
              <button type="button" onClick={signIn} disabled={state.busy}>
                Sign in
              </button>
            </>
          )}
          {state.error && <p role="alert">{state.error}</p>}
        </section>
      </main>
    </>
  );
}
