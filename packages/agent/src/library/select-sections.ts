import { PlexliftError } from '@plexlift/shared';
import type { PlexSection } from '@plexlift/shared/plex-api';

/** The job's sections by name or id, in the job's order; all of them when it names none. */
export function selectSections(all: PlexSection[], wanted: string[]): PlexSection[] {
  if (wanted.length === 0) return all;
  return wanted.map((name) => {
    const section = all.find((s) => s.key === name || s.title === name);
    if (!section) {
      throw new PlexliftError('BAD_ARGUMENT', `section "${name}" is not in this library (it has: ${all.map((s) => `"${s.title}" (${s.key})`).join(', ')})`, {
        details: { field: 'sections', value: name },
      });
    }
    return section;
  });
}
