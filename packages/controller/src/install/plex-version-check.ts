import { existsSync } from 'node:fs';
import { PlexliftError } from '@plexlift/shared';
import { closeDatabase, openDatabaseReadOnly } from '@plexlift/shared/plex-db';

/** `1.43.2.10687-563d026ea` → [1, 43, 2, 10687]; compared part by part. */
export function comparePlexVersions(a: string, b: string): number {
  const parts = (version: string) => version.split('-')[0]!.split('.').map(Number);
  const [left, right] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return Math.sign(difference);
  }
  return 0;
}

/** The migrations a library DB went through (`schema_migrations`, plex-db.md §2.2); their names mix formats, so only membership counts. */
function migrationsOf(path: string): Set<string> | undefined {
  if (!existsSync(path)) return undefined;
  const db = openDatabaseReadOnly(path);
  try {
    return new Set((db.prepare('SELECT version FROM schema_migrations').pluck().all() as (string | number)[]).map(String));
  } finally {
    closeDatabase(db);
  }
}

/**
 * The home Plex may have changed version during the job (issue 18). PMS migrates an older DB
 * forward as it starts (its log's "Running migrations"), but no PMS opens a DB a newer one made:
 * the new library, made by the job's Plex (pinned to home's version at the start), is refused
 * when home now runs an older Plex, or, when home's version cannot be read, when the new DB went
 * through a migration home's DB never had. Returns a note when home was updated (the install goes on).
 */
export function checkPlexVersions(input: {
  jobId: string;
  jobVersion: string;
  homeVersion: string | undefined;
  homeDb: string;
  incomingDb: string;
}): string | undefined {
  const refuse = (why: string) =>
    new PlexliftError(
      'SAFETY_STOP',
      `${why}; a Plex never opens a library a newer Plex made, so nothing was installed and home is as it was. The archive is kept: ` +
        `update the home Plex to ${input.jobVersion} or later, then run plexlift install ${input.jobId}`,
      { details: { jobVersion: input.jobVersion, homeVersion: input.homeVersion } },
    );
  if (input.homeVersion !== undefined) {
    const order = comparePlexVersions(input.jobVersion, input.homeVersion);
    if (order > 0) throw refuse(`the new library was made by Plex ${input.jobVersion} and the home Plex is now the older ${input.homeVersion}`);
    return order < 0
      ? `the home Plex was updated during the job (${input.jobVersion} → ${input.homeVersion}): it migrates the new library forward as it starts`
      : undefined;
  }
  const incoming = migrationsOf(input.incomingDb);
  const home = migrationsOf(input.homeDb);
  const unknown = incoming && home ? [...incoming].filter((version) => !home.has(version)) : [];
  if (unknown.length > 0)
    throw refuse(
      `the new library went through Plex migrations the home library never had (${unknown.slice(0, 3).join(', ')}${unknown.length > 3 ? ', …' : ''}), and the home Plex did not say its version`,
    );
  return undefined;
}
