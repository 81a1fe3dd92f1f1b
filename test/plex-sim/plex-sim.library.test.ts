import { readFileSync, renameSync, rmSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { readStatsOf as stats, runStockSqlite3 } from '../utils/sqlite-files.js';
import { startTestSim } from './sim-fixture.js';

describe('plex-sim scans', () => {
  it('builds the library from the folders with Plex naming, absolute paths and the hierarchy', async () => {
    const { sim, media, addSection } = await startTestSim({
      media: { movies: 4, shows: 2, seasons: 2, episodes: 3, artists: 2, albums: 2, tracks: 5, photos: 4 },
    });
    await addSection('Movies', 'movie', media.roots.movies);
    await addSection('TV Shows', 'show', media.roots.tv);
    await addSection('Music', 'artist', media.roots.music);
    await addSection('Photos', 'photo', media.roots.photos);
    const { library } = stats(sim.paths.mainDb);
    expect(library.sections.map((s) => [s.title, s.counts, s.parts])).toEqual([
      ['Movies', { movie: 4, show: 0, season: 0, episode: 0, artist: 0, album: 0, track: 0, photo: 0 }, 4],
      ['TV Shows', { movie: 0, show: 2, season: 4, episode: 12, artist: 0, album: 0, track: 0, photo: 0 }, 12],
      ['Music', { movie: 0, show: 0, season: 0, episode: 0, artist: 2, album: 4, track: 20, photo: 0 }, 20],
      ['Photos', { movie: 0, show: 0, season: 0, episode: 0, artist: 0, album: 0, track: 0, photo: 4 }, 4],
    ]);
    const files = sim.runtime.library.db.prepare(`SELECT file FROM media_parts ORDER BY file`).pluck().all() as string[];
    expect(files).toEqual([...media.movies, ...media.episodes, ...media.tracks, ...media.photos].sort());
    expect(sim.runtime.library.db.prepare(`SELECT title, year FROM metadata_items WHERE metadata_type = 1 ORDER BY title`).all()).toContainEqual({
      title: 'Amélie',
      year: 2001,
    });
  });

  it('marks vanished files deleted, restores them when they come back, and empties the trash on request', async () => {
    const { sim, api, media, addSection } = await startTestSim();
    await api('/:/prefs?autoEmptyTrash=0', { method: 'PUT' });
    const id = await addSection('Movies', 'movie', media.roots.movies);
    renameSync(media.movies[0]!, `${media.movies[0]!}.moved`);
    await api(`/library/sections/${id}/refresh`);
    await sim.jobs.idle();
    expect(stats(sim.paths.mainDb).library.sections[0]).toMatchObject({ counts: { movie: 2 }, deleted: 1, parts: 2 });
    renameSync(`${media.movies[0]!}.moved`, media.movies[0]!);
    await api(`/library/sections/${id}/refresh`);
    await sim.jobs.idle();
    expect(stats(sim.paths.mainDb).library.sections[0]).toMatchObject({ counts: { movie: 3 }, deleted: 0 });
    rmSync(media.movies[1]!);
    await api(`/library/sections/${id}/refresh`);
    await sim.jobs.idle();
    expect((await api(`/library/sections/${id}/emptyTrash`, { method: 'PUT' })).status).toBe(200);
    expect(stats(sim.paths.mainDb).library.sections[0]).toMatchObject({ counts: { movie: 2 }, deleted: 0 });
  });

  it('the 221-of-224 incident: with autoEmptyTrash on and files invisible, a scan purges the films', async () => {
    const { sim, api, media, addSection } = await startTestSim({ media: { movies: 224 } });
    const id = await addSection('Movies', 'movie', media.roots.movies);
    expect(stats(sim.paths.mainDb).library.sections[0]?.counts.movie).toBe(224);
    sim.faults.invisibleFiles = true; // folders list, files do not
    await api(`/library/sections/${id}/refresh`);
    await sim.jobs.idle();
    expect(stats(sim.paths.mainDb).library.sections[0]).toMatchObject({ counts: { movie: 0 }, deleted: 0, parts: 0 });
    expect(sim.runtime.library.db.prepare(`SELECT count(*) FROM metadata_items WHERE metadata_type = 1`).pluck().get()).toBe(0);
  });

  it('with autoEmptyTrash off, the same scan leaves the films marked deleted, recoverable', async () => {
    const { sim, api, media, addSection } = await startTestSim({ media: { movies: 224 } });
    await api('/:/prefs?autoEmptyTrash=0', { method: 'PUT' });
    const id = await addSection('Movies', 'movie', media.roots.movies);
    sim.faults.invisibleFiles = true;
    await api(`/library/sections/${id}/refresh`);
    await sim.jobs.idle();
    expect(stats(sim.paths.mainDb).library.sections[0]).toMatchObject({ counts: { movie: 0 }, deleted: 224 });
    sim.faults.invisibleFiles = false;
    await api(`/library/sections/${id}/refresh`);
    await sim.jobs.idle();
    expect(stats(sim.paths.mainDb).library.sections[0]).toMatchObject({ counts: { movie: 224 }, deleted: 0 });
  });

  it('stale paths (ENOENT on read) are treated as gone, as a real scan does', async () => {
    const { sim, api, media, addSection } = await startTestSim();
    await api('/:/prefs?autoEmptyTrash=0', { method: 'PUT' });
    const id = await addSection('Music', 'artist', media.roots.music);
    sim.faults.staleFiles = true;
    await api(`/library/sections/${id}/refresh`);
    await sim.jobs.idle();
    expect(stats(sim.paths.mainDb).library.sections[0]).toMatchObject({ counts: { track: 0 }, deleted: media.tracks.length + 2 + 4 });
    expect(readFileSync(sim.paths.log, 'utf8')).toMatch(/File '.*\.flac' didn't exist/);
  });

  it('a missing location root is marked unavailable and its items are left alone', async () => {
    const { sim, api, media, addSection } = await startTestSim();
    const id = await addSection('Movies', 'movie', media.roots.movies);
    renameSync(media.roots.movies, `${media.roots.movies}.offline`);
    await api(`/library/sections/${id}/refresh`);
    await sim.jobs.idle();
    expect(stats(sim.paths.mainDb).library.sections[0]).toMatchObject({ counts: { movie: 3 }, deleted: 0 });
    expect(sim.runtime.library.db.prepare(`SELECT available FROM section_locations`).pluck().get()).toBe(0);
  });

  it('path= must be a folder inside a section location (trap 10)', async () => {
    const { sim, api, media, addSection } = await startTestSim();
    await api('/:/prefs?autoEmptyTrash=0', { method: 'PUT' });
    const id = await addSection('Movies', 'movie', media.roots.movies);
    rmSync(media.movies[2]!);
    for (const path of [media.movies[0]!, '/elsewhere/Movies']) {
      expect((await api(`/library/sections/${id}/refresh?path=${encodeURIComponent(path)}`)).status).toBe(200);
    }
    await sim.jobs.idle();
    const log = readFileSync(sim.paths.log, 'utf8');
    expect(log).toContain(`Failed to create iterator to "${media.movies[0]!}": Not a directory`);
    expect(log).toContain(`'/elsewhere/Movies' was not inside any known section location, skipping.`);
    expect(stats(sim.paths.mainDb).library.sections[0]?.deleted).toBe(0);
    // A folder inside the location is scanned, and only that folder.
    const folder = media.movies[2]!.slice(0, media.movies[2]!.lastIndexOf('/'));
    await api(`/library/sections/${id}/refresh?path=${encodeURIComponent(folder)}`);
    await sim.jobs.idle();
    expect(stats(sim.paths.mainDb).library.sections[0]).toMatchObject({ counts: { movie: 2 }, deleted: 1 });
  });

  it('refreshing reads false right after the trigger, then true while scanning (trap 5)', async () => {
    const { sim, api, media, addSection } = await startTestSim({ media: { movies: 40 } });
    const id = await addSection('Movies', 'movie', media.roots.movies);
    sim.runtime.options.speed = 1;
    sim.runtime.options.timings.refreshingLagMs = 500;
    sim.runtime.options.timings.scanItemMs = 60;
    const refreshing = async () => ((await api('/library/sections')).xml?.MediaContainer as { Directory: { refreshing: string }[] }).Directory[0]!.refreshing;
    await api(`/library/sections/${id}/refresh`);
    expect(await refreshing()).toBe('0');
    await vi.waitFor(async () => expect(await refreshing(), 'refreshing once the lag has passed').toBe('1'), { timeout: 5_000 });
    await sim.jobs.idle();
    expect(await refreshing()).toBe('0');
  });

  it('analysis records each file, writes preview indexes when enabled, and with force refreshes all metadata first', async () => {
    const { sim, api, media, addSection } = await startTestSim();
    await api('/:/prefs?GenerateBIFBehavior=asap', { method: 'PUT' });
    const id = await addSection('Movies', 'movie', media.roots.movies);
    const types: string[] = [];
    sim.runtime.notifier.on('notification', (n) => {
      for (const entry of n.entries) if (n.type === 'activity' && entry.event === 'started') types.push((entry.Activity as { type: string }).type);
    });
    expect((await api(`/library/sections/${id}/analyze?force=1`, { method: 'PUT' })).status).toBe(200);
    await sim.jobs.idle();
    expect(types).toEqual(['library.refresh.items', 'media.analyze']);
    expect(sim.runtime.library.db.prepare(`SELECT DISTINCT media_analysis_version FROM media_items`).pluck().all()).toEqual([6]);
    const hashes = sim.runtime.library.db.prepare(`SELECT hash FROM media_parts`).pluck().all() as string[];
    for (const hash of hashes) {
      expect(readFileSync(`${sim.paths.media}/${hash[0]}/${hash.slice(1)}.bundle/Contents/Indexes/index-sd.bif`).length).toBe(32 * 1024);
    }
  });

  it('puts the Plex-only objects back on stop, so the DB trips stock SQLite like a real one', async () => {
    const { sim, media, addSection } = await startTestSim();
    await addSection('Movies', 'movie', media.roots.movies);
    // While it runs, the objects are aside (the double "is Plex" and has the collations).
    expect(runStockSqlite3(sim.paths.mainDb, `SELECT count(*) FROM sqlite_schema WHERE name = 'index_title_sort_icu'`).stdout).toBe('0\n');
    await sim.stop();
    expect(runStockSqlite3(sim.paths.mainDb, 'PRAGMA integrity_check').stderr).toMatch(/icu_root/);
    expect(runStockSqlite3(sim.paths.mainDb, `SELECT count(*) FROM sqlite_schema WHERE name LIKE '%\\_icu' ESCAPE '\\'`).stdout).toBe('11\n');
  });
});

describe('plex-sim Butler and Sonic', () => {
  it('/butler is ButlerTasks, not a MediaContainer; POST answers 200, 202 while running, 404 unknown', async () => {
    const { sim, api, media, addSection } = await startTestSim({ plexTvUrl: undefined });
    await addSection('Music', 'artist', media.roots.music);
    const tasks = (await api('/butler')).xml as { ButlerTasks: { ButlerTask: { name: string }[] } };
    expect(tasks.ButlerTasks.ButlerTask.map((t) => t.name)).toContain('MusicAnalysis');
    expect((await api('/butler/NoSuchTask', { method: 'POST' })).status).toBe(404);
    sim.runtime.options.speed = 1;
    sim.faults.stallAnalysis = true;
    expect((await api('/butler/OptimizeDatabase', { method: 'POST' })).status).toBe(200);
    sim.butler.start('LoudnessAnalysis');
    expect((await api('/butler/LoudnessAnalysis', { method: 'POST' })).status).toBe(202);
  });
});
