import { hrefOf, type ViewName } from '../route.js';

/** The views, in the order a person looks: the jobs first (the page as it opens). Run is the admin's. */
const LINKS: { view: ViewName; label: string; admin?: boolean }[] = [
  { view: 'jobs', label: 'Jobs' },
  { view: 'run', label: 'Run', admin: true },
  { view: 'progress', label: 'Progress' },
  { view: 'schedule', label: 'Schedule' },
  { view: 'vms', label: 'VMs' },
  { view: 'backups', label: 'Backups' },
  { view: 'doctor', label: 'Doctor' },
];

/** The page's own navigation: plain links to hash routes, so the back button and a new tab work. */
export function ViewNav({ current, canAct }: { current: ViewName; canAct: boolean }) {
  return (
    <nav aria-label="Views" class="views">
      <ul>
        {LINKS.filter((link) => canAct || !link.admin).map((link) => (
          <li key={link.view}>
            <a href={hrefOf({ view: link.view })} aria-current={link.view === current ? 'page' : undefined}>
              {link.label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
