import { DEFAULT_DELETION_CAP, deletionLimit, PlexliftError, type DeletionCap } from '@plexlift/shared';
import type { CountedKind, SectionStats } from '@plexlift/shared/plex-db';

/** The items a section is made of: what a scan can lose. */
const LEAF_KIND: Record<SectionStats['type'], CountedKind | undefined> = {
  movie: 'movie',
  show: 'episode',
  artist: 'track',
  photo: 'photo',
  unknown: undefined,
};

export interface DeletionCheck {
  sectionId: number;
  title: string;
  /** Items before the scan. */
  before: number;
  /** Items gone after it: marked deleted or purged. */
  lost: number;
  /** The most that may go. */
  limit: number;
  exceeded: boolean;
}

/** Compares a section before and after a scan against the cap. */
export function checkDeletions(before: SectionStats, after: SectionStats | undefined, cap: DeletionCap = DEFAULT_DELETION_CAP): DeletionCheck {
  const kind = LEAF_KIND[before.type];
  const count = (stats: SectionStats | undefined) => (kind && stats ? stats.counts[kind] : 0);
  const lost = Math.max(0, count(before) - count(after));
  const limit = deletionLimit(count(before), cap);
  return { sectionId: before.id, title: before.title, before: count(before), lost, limit, exceeded: lost > limit };
}

/**
 * Stops the job (exit 6) when a scan lost more than the cap: a scan over a degraded mount marks
 * the whole library deleted (plex-api.md, Traps: `autoEmptyTrash` defaults to true). Such a DB
 * is never shipped unless the user says `--allow-deletions`.
 */
export function assertDeletionsWithinCap(check: DeletionCheck, options: { allowDeletions: boolean }): void {
  if (!check.exceeded || options.allowDeletions) return;
  throw new PlexliftError(
    'SAFETY_STOP',
    `section "${check.title}" (id ${check.sectionId}): the scan lost ${check.lost} of ${check.before} items, more than the cap of ${check.limit}; ` +
      'the job stops and this library is not shipped. Check the media mount, then re-run, or accept the loss with --allow-deletions',
    { details: { ...check } },
  );
}
