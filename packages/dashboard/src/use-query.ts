import { useCallback, useEffect, useState } from 'preact/hooks';
import { messageOf } from './format.js';

/** A daemon query's answer as a view shows it: loading, the answer, or the daemon's refusal. */
export interface QueryState<T> {
  answer?: T;
  error?: string;
  loading: boolean;
  /** Asks again (a Refresh button, or after an action changed what the answer says). */
  reload: () => void;
}

/**
 * Asks once when the view opens and again on `reload`; an answer that arrives after the view
 * closed, or after a newer question, is dropped. The last answer stays on screen while reloading.
 */
export function useQuery<T>(ask: () => Promise<T>, deps: readonly unknown[]): QueryState<T> {
  const [state, setState] = useState<Omit<QueryState<T>, 'reload'>>({ loading: true });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    setState((previous) => ({ ...previous, loading: true }));
    ask().then(
      (answer) => live && setState({ answer, loading: false }),
      (failure: unknown) => live && setState((previous) => ({ ...previous, error: messageOf(failure), loading: false })),
    );
    return () => {
      live = false;
    };
    // `ask` is a new closure each render: what it asks with is `deps`.
  }, [...deps, round]);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  return { ...state, reload };
}
