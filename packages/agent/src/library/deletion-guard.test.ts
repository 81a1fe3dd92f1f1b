import { describe, expect, it } from 'vitest';
import { emptyCounts, type SectionStats } from '@plexlift/shared/plex-db';
import { assertDeletionsWithinCap, checkDeletions } from './deletion-guard.js';

const movies = (live: number, deleted = 0): SectionStats => ({
  id: 1,
  title: 'Movies',
  type: 'movie',
  counts: { ...emptyCounts(), movie: live },
  deleted,
  parts: live,
});

describe('checkDeletions', () => {
  it('the 221-of-224 scan is over the cap, whether the films were marked or purged', () => {
    expect(checkDeletions(movies(224), movies(3, 221))).toEqual({ sectionId: 1, title: 'Movies', before: 224, lost: 221, limit: 11, exceeded: true });
    expect(checkDeletions(movies(224), movies(3, 0))).toMatchObject({ lost: 221, exceeded: true });
    expect(checkDeletions(movies(224), undefined)).toMatchObject({ lost: 224, exceeded: true });
  });

  it('5 % or 100 items, whichever comes first', () => {
    expect(checkDeletions(movies(1000), movies(950))).toMatchObject({ limit: 50, exceeded: false });
    expect(checkDeletions(movies(1000), movies(949))).toMatchObject({ limit: 50, exceeded: true });
    expect(checkDeletions(movies(100_000), movies(99_900))).toMatchObject({ limit: 100, exceeded: false });
    expect(checkDeletions(movies(100_000), movies(99_899))).toMatchObject({ limit: 100, exceeded: true });
    expect(checkDeletions(movies(10), movies(10))).toMatchObject({ lost: 0, exceeded: false });
    expect(checkDeletions(movies(10), movies(20))).toMatchObject({ lost: 0, exceeded: false });
  });

  it('counts the leaf items of each section type', () => {
    const show: SectionStats = { id: 2, title: 'TV', type: 'show', counts: { ...emptyCounts(), show: 3, season: 6, episode: 200 }, deleted: 0, parts: 200 };
    const after: SectionStats = { ...show, counts: { ...show.counts, episode: 150 } };
    expect(checkDeletions(show, after)).toMatchObject({ before: 200, lost: 50, limit: 10, exceeded: true });
    expect(checkDeletions(show, after, { maxPercent: 50, maxItems: 1000 })).toMatchObject({ limit: 100, exceeded: false });
  });
});

describe('assertDeletionsWithinCap', () => {
  it('stops with exit 6 naming the section and the counts, unless deletions are allowed', () => {
    const check = checkDeletions(movies(224), movies(3, 221));
    expect(() => assertDeletionsWithinCap(check, { allowDeletions: false })).toThrow(
      expect.objectContaining({
        code: 'SAFETY_STOP',
        exitCode: 6,
        message: expect.stringMatching(/^section "Movies" \(id 1\): the scan lost 221 of 224 items, more than the cap of 11; .*--allow-deletions$/),
      }),
    );
    expect(() => assertDeletionsWithinCap(check, { allowDeletions: true })).not.toThrow();
  });
});
