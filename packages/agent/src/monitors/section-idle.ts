import type { PlexClient, PlexSection } from '@plexlift/shared/plex-api';
import type { IdleSample } from './idle-waiter.js';
import type { CpuMonitor } from './cpu-monitor.js';

/**
 * One idle reading for a section: its activities (any type, the analysis ones included), or for
 * the whole server when no section is given — never the Butler's umbrella activity, which
 * lingers at 100 % (plex-api.md, Traps: `/activities` never empties).
 */
export async function readIdleSample(plex: PlexClient, section: PlexSection | undefined, cpu: CpuMonitor | undefined): Promise<IdleSample> {
  const [activities, sections, cpuPercent] = await Promise.all([plex.activities(), plex.sections(), cpu?.read()]);
  const queues = await Promise.all((section ? [section] : sections).map((s) => plex.updateQueueSize(s.key)));
  const busy = activities.filter((a) => {
    if (a.type === 'butler' && a.progress >= 100) return false;
    if (!section) return true;
    return a.Context?.librarySectionID === undefined || a.Context.librarySectionID === section.key;
  });
  return {
    busyActivities: busy.length,
    refreshing: (section ? sections.filter((s) => s.key === section.key) : sections).some((s) => s.refreshing),
    updateQueueSize: queues.reduce((n, q) => n + q, 0),
    cpuPercent,
  };
}
