import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DELETION_CAP, PlexliftError } from '@plexlift/shared';
import { checkHomeDeletions } from '../../packages/controller/src/install/home-deletion-guard.js';
import { generateLibrary } from '../utils/library-generator.js';
import { editLibrary, RENUMBER_LIBRARY_SQL } from '../utils/plex-only-objects.js';
import { createTempDir } from '../utils/temp-dir.js';

/** A home library (the 1.43.2 schema, 120 films, 240 episodes) and a copy of it to change as the VM would. */
function homeAndIncoming() {
  const dir = createTempDir('deletion-guard-');
  const home = generateLibrary({ dir: join(dir, 'home'), size: 'small' }).mainDb;
  const incoming = join(dir, 'incoming.db');
  copyFileSync(home, incoming);
  return { home, incoming };
}

const guard = (paths: { home: string; incoming: string }, allowDeletions = false) =>
  checkHomeDeletions({ homeDb: paths.home, incomingDb: paths.incoming, cap: { ...DEFAULT_DELETION_CAP }, allowDeletions, jobId: 'job-0042' });

/** The last `count` films by title: what a bucket loses when the files that sort last do not read. */
const lastFilms = (count: number) =>
  `SELECT id FROM metadata_items WHERE metadata_type = 1 AND library_section_id = (SELECT id FROM library_sections WHERE name = 'Movies') ORDER BY title DESC LIMIT ${count}`;

describe('the deletion cap at home, before an install', () => {
  it('finds nothing lost when the incoming library holds every item home has', () => {
    expect(guard(homeAndIncoming())).toEqual([]);
  });

  it('refuses a library that lacks more films than the cap (5 % of 120 = 6), naming the section, the count and titles; allows it when asked', () => {
    const paths = homeAndIncoming();
    // A scan job never marks anything deleted: the films are simply not there.
    editLibrary(
      paths.incoming,
      `DELETE FROM media_items WHERE metadata_item_id IN (${lastFilms(7)}); DELETE FROM metadata_items WHERE id IN (${lastFilms(7)})`,
    );
    let thrown: unknown;
    try {
      guard(paths);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PlexliftError);
    const error = thrown as PlexliftError;
    expect(error.code).toBe('SAFETY_STOP');
    expect(error.exitCode).toBe(6);
    expect(error.message).toMatch(/home section "Movies" would lose 7 of its 120 items \(cap 6\), e\.g\. "[^"]+"/);
    expect(error.message).toContain('plexlift install job-0042 --allow-deletions');
    expect(guard(paths, true)).toEqual([expect.objectContaining({ title: 'Movies', missing: 7, total: 120, limit: 6 })]);
  });

  it('lets a loss within the cap through, and counts items the incoming library marked deleted as lost', () => {
    const paths = homeAndIncoming();
    editLibrary(paths.incoming, `UPDATE metadata_items SET deleted_at = 1700000000 WHERE id IN (${lastFilms(6)})`);
    const [movies] = guard(paths);
    expect(movies).toMatchObject({ title: 'Movies', missing: 6, limit: 6 });
    expect(movies!.sample).toHaveLength(5);
  });

  it('matches a rebuilt library by stable identity: other ids, a new section uuid, local guids, the same files', () => {
    const paths = homeAndIncoming();
    editLibrary(
      paths.incoming,
      `${RENUMBER_LIBRARY_SQL}
       UPDATE library_sections SET uuid = 'rebuilt-' || id;
       UPDATE metadata_items SET guid = 'local://' || (id - 100000) WHERE metadata_type = 1`,
    );
    // Home's films have the same local guids (built from ids both builds share a counter for).
    editLibrary(paths.home, `UPDATE metadata_items SET guid = 'local://' || id WHERE metadata_type = 1`);
    expect(guard(paths)).toEqual([]);
    // The same local guid, another file: not the same film (a local id is not an identity).
    editLibrary(
      paths.incoming,
      `UPDATE media_parts SET file = file || '.gone' WHERE media_item_id IN (SELECT id FROM media_items WHERE metadata_item_id IN (${lastFilms(1)}))`,
    );
    expect(guard(paths)).toEqual([expect.objectContaining({ title: 'Movies', missing: 1 })]);
  });

  it('names the show of a lost episode, and refuses a library without a home section', () => {
    const paths = homeAndIncoming();
    editLibrary(paths.incoming, `DELETE FROM library_sections WHERE name = 'TV Shows'`);
    expect(() => guard(paths)).toThrow(/home section "TV Shows" is missing from the new library with its 240 items, e\.g\. "[^"]+ — [^"]+"/);
  });
});
