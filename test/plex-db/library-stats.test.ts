import { describe, expect, it } from 'vitest';
import { closeDatabase, diffLibraryStats, openDatabaseForWrite, openDatabaseReadOnly, withFtsTriggersSetAside } from '@plexlift/shared/plex-db';
import { generateLibrary } from '../utils/library-generator.js';
import { readStatsOf } from '../utils/sqlite-files.js';
import { createTempDir } from '../utils/temp-dir.js';

function readStats(path: string) {
  const { library, sonic } = readStatsOf(path);
  return { stats: library, sonic };
}

describe('readLibraryStats', () => {
  it('counts every kind per section exactly, extras and photo albums excluded', () => {
    const library = generateLibrary({ dir: createTempDir(), size: 'small', deletedRatio: 0.07, seed: 7 });
    const { stats } = readStats(library.mainDb);
    expect(stats).toEqual(library.expected);
    // The generator really produced what the counts claim to exclude or include.
    const movies = stats.sections.find((s) => s.type === 'movie');
    expect(movies?.counts.movie).toBeGreaterThan(100);
    expect(stats.sections.reduce((n, s) => n + s.deleted, 0)).toBeGreaterThan(50);
  });

  it('gives the reference mix its section types and titles', () => {
    const library = generateLibrary({ dir: createTempDir(), size: 'tiny' });
    const { stats } = readStats(library.mainDb);
    expect(stats.sections.map((s) => [s.title, s.type])).toEqual([
      ['Movies', 'movie'],
      ['TV Shows', 'show'],
      ['Music', 'artist'],
      ['Photos', 'photo'],
    ]);
    expect(stats.sections[3]?.counts.photo).toBe(10);
  });

  it('reports an empty library (the real fresh PMS 1.43.2 DB) as no sections', () => {
    const library = generateLibrary({ dir: createTempDir(), size: 'tiny', sections: [] });
    expect(readStats(library.mainDb).stats).toEqual({ sections: [] });
  });
});

describe('diffLibraryStats', () => {
  it('gives exact per-section deltas after items are marked deleted and a section is added', () => {
    const library = generateLibrary({ dir: createTempDir(), size: 'small', seed: 3 });
    const before = readStats(library.mainDb).stats;
    const music = before.sections.find((s) => s.type === 'artist')!;

    const db = openDatabaseForWrite(library.mainDb);
    try {
      db.transaction(() => {
        // What a scan over a half-dead mount does: tracks and their parts marked deleted.
        withFtsTriggersSetAside(db, 'metadata_items', () =>
          db
            .prepare(
              `UPDATE metadata_items SET deleted_at = 1 WHERE id IN (SELECT id FROM metadata_items WHERE library_section_id = ? AND metadata_type = 10 AND deleted_at IS NULL LIMIT 25)`,
            )
            .run(music.id),
        );
        db.prepare(
          `UPDATE media_parts SET deleted_at = 1 WHERE media_item_id IN (SELECT mi.id FROM media_items mi JOIN metadata_items m ON m.id = mi.metadata_item_id WHERE m.deleted_at = 1)`,
        ).run();
        db.prepare(`INSERT INTO library_sections (name, section_type) VALUES ('Concerts', 1)`).run();
      })();
    } finally {
      closeDatabase(db);
    }

    const after = readStats(library.mainDb).stats;
    const diff = diffLibraryStats(before, after);
    const musicDelta = diff.sections.find((s) => s.id === music.id)!;
    expect(musicDelta.status).toBe('changed');
    expect(musicDelta.counts.track).toBe(-25);
    expect(musicDelta.deleted).toBe(25);
    expect(musicDelta.parts).toBe(-25);
    expect(musicDelta.counts.album).toBe(0);
    expect(diff.sections.filter((s) => s.status === 'unchanged')).toHaveLength(3);
    expect(diff.sections.at(-1)).toMatchObject({ title: 'Concerts', status: 'added' });
    expect(diff.total).toEqual({ counts: { movie: 0, show: 0, season: 0, episode: 0, artist: 0, album: 0, track: -25, photo: 0 }, deleted: 25, parts: -25 });
    expect(diffLibraryStats(after, before).sections.at(-1)?.status).toBe('removed');
  });
});

describe('readSonicProgress', () => {
  it.each(['json', 'url'] as const)('counts analysed tracks exactly with %s extra_data', (encoding) => {
    const library = generateLibrary({ dir: createTempDir(), size: 'small', extraDataEncoding: encoding, sonicRatio: 0.3, deletedRatio: 0.05, seed: 11 });
    const { sonic } = readStats(library.mainDb);
    expect(sonic).toEqual(library.sonic);
    expect(sonic[0]!.analyzed).toBeGreaterThan(0);
    expect(sonic[0]!.analyzed).toBeLessThan(sonic[0]!.total);
  });

  it('uses the encoding the server wrote: JSON since 1.40, URL-encoded before', () => {
    const json = generateLibrary({ dir: createTempDir(), size: 'tiny', extraDataEncoding: 'json', sonicRatio: 1 });
    const url = generateLibrary({ dir: createTempDir(), size: 'tiny', extraDataEncoding: 'url', sonicRatio: 1 });
    const sample = (path: string) => {
      const db = openDatabaseReadOnly(path);
      try {
        return (db.prepare(`SELECT extra_data FROM metadata_items WHERE metadata_type = 10 LIMIT 1`).get() as { extra_data: string }).extra_data;
      } finally {
        closeDatabase(db);
      }
    };
    expect(JSON.parse(sample(json.mainDb))).toMatchObject({ 'ms:musicAnalysisVersion': '1' });
    expect(sample(url.mainDb)).toMatch(/^ms%3AmusicAnalysisVersion=1&/);
    expect(readStats(json.mainDb).sonic).toEqual(json.sonic);
    expect(readStats(url.mainDb).sonic).toEqual(url.sonic);
  });
});
