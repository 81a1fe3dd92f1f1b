import { existsSync } from 'node:fs';
import { deletionLimit, PlexliftError, type DeletionCap } from '@plexlift/shared';
import { closeDatabase, findLibraryLosses, openDatabaseReadOnly, type SectionLoss } from '@plexlift/shared/plex-db';

export interface HomeLoss extends SectionLoss {
  /** The most the cap lets this section lose. */
  limit: number;
}

/**
 * The deletion cap, checked at home before an install (DESIGN.md "Deletion cap", issue 18): the
 * incoming library against the home library as it is now, per section, by stable identity (guid,
 * file path; the archive's paths are home's, remapped at export). It holds for every mode: a scan
 * job builds its DB from nothing, so the VM never sees a deletion, and a file that did not read
 * on the VM is simply absent. Returns what the incoming library lacks, for the report; throws
 * SAFETY_STOP when a section loses more than the cap and the user did not allow it. Home is only
 * read, while its Plex runs.
 */
export function checkHomeDeletions(options: { homeDb: string; incomingDb: string; cap: DeletionCap; allowDeletions: boolean; jobId: string }): HomeLoss[] {
  if (!existsSync(options.homeDb)) return [];
  const home = openDatabaseReadOnly(options.homeDb);
  let losses: HomeLoss[];
  try {
    const incoming = openDatabaseReadOnly(options.incomingDb);
    try {
      losses = findLibraryLosses(home, incoming)
        .filter((loss) => loss.missing > 0)
        .map((loss) => ({ ...loss, limit: deletionLimit(loss.total, options.cap) }));
    } finally {
      closeDatabase(incoming);
    }
  } finally {
    closeDatabase(home);
  }
  const over = losses.filter((loss) => loss.missing > loss.limit);
  if (over.length > 0 && !options.allowDeletions) {
    throw new PlexliftError(
      'SAFETY_STOP',
      `${over.map(describe).join('; ')}; more than the deletion cap, so nothing was installed and home is as it was. ` +
        `The archive is kept: check the media mount and run again, or install it anyway with plexlift install ${options.jobId} --allow-deletions`,
      { details: { homeDeletions: over } },
    );
  }
  return losses;
}

function describe(loss: HomeLoss): string {
  const what = loss.sectionMissing ? 'is missing from the new library' : `would lose ${loss.missing} of its ${loss.total} items (cap ${loss.limit})`;
  const sample = loss.sample.length > 0 ? `, e.g. ${loss.sample.map((title) => `"${title}"`).join(', ')}` : '';
  return `home section "${loss.title}" ${what}${loss.sectionMissing ? ` with its ${loss.total} items` : ''}${sample}`;
}
