import type { QueryState } from '../use-query.js';

/** Asks the daemon again: a view's data is read when it opens, not polled (some reads call a cloud's API). */
export function RefreshButton({ query }: { query: QueryState<unknown> }) {
  return (
    <button type="button" class="refresh" onClick={query.reload} disabled={query.loading} aria-busy={query.loading ? 'true' : undefined}>
      {query.loading ? 'Refreshing…' : 'Refresh'}
    </button>
  );
}
