import { useEffect, useState } from 'preact/hooks';

/** The page's views, each at its own hash (`#/progress`), so a phone's back button goes between them. */
export const VIEWS = ['jobs', 'run', 'progress', 'schedule', 'vms', 'backups', 'doctor'] as const;
export type ViewName = (typeof VIEWS)[number];

/** Where the page is: a view, and for the jobs view the job followed (`#/jobs/ID`; the newest when absent). */
export interface Route {
  view: ViewName;
  jobId?: string;
}

/** `#/vms` → the VMs view; anything unknown (no hash: the page as it opens) → the jobs. */
export function parseRoute(hash: string): Route {
  const [view, ...rest] = hash.replace(/^#\/?/, '').split('/');
  if (view === 'jobs' && rest.length > 0 && rest[0]) return { view, jobId: decodeURIComponent(rest.join('/')) };
  return { view: VIEWS.find((known) => known === view) ?? 'jobs' };
}

export function hrefOf(route: Route): string {
  return route.jobId === undefined ? `#/${route.view}` : `#/${route.view}/${encodeURIComponent(route.jobId)}`;
}

/** Goes to a route as a link would: a new history entry. */
export function navigate(route: Route): void {
  location.hash = hrefOf(route);
}

/** The route of the address bar, following its changes (links, the back button). */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const follow = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, []);
  return route;
}
