import { describe, expect, it } from 'vitest';
import { startTestSim, type TestSim } from './sim-fixture.js';

/** A running double with a movie and a TV section scanned. */
async function withLibrary(): Promise<TestSim & { films: number[]; episode: number }> {
  const test = await startTestSim({ media: { movies: 4, subtitledMovies: 1, shows: 1, seasons: 1, episodes: 2 } });
  await test.addSection('Movies', 'movie', test.media.roots.movies);
  await test.addSection('TV Shows', 'show', test.media.roots.tv);
  const ids = (type: number) =>
    test.sim.runtime.library.db.prepare('SELECT id FROM metadata_items WHERE metadata_type = ? ORDER BY id').pluck().all(type) as number[];
  return { ...test, films: ids(1), episode: ids(4)[0]! };
}

const library = 'identifier=com.plexapp.plugins.library';

describe('plex-sim: what people do with a library, and the rows PMS writes for it', () => {
  it('scrobble, unscrobble, progress and rate write metadata_item_settings by account and guid; a finished play adds history', async () => {
    const { sim, api, films, episode } = await withLibrary();
    const db = sim.runtime.library.db;
    const setting = (id: number) =>
      db
        .prepare(
          'SELECT s.account_id, s.view_count, s.view_offset, s.rating, s.last_viewed_at IS NOT NULL AS viewed FROM metadata_item_settings s JOIN metadata_items m ON m.guid = s.guid WHERE m.id = ?',
        )
        .get(id);
    const [a, b, c] = films as [number, number, number];

    expect((await api(`/:/scrobble?key=${a}&${library}`)).status).toBe(200);
    expect(setting(a)).toEqual({ account_id: 1, view_count: 1, view_offset: 0, rating: null, viewed: 1 });
    // Marked played, not played: no history (PMS 1.40.0.7998 and later).
    expect(db.prepare('SELECT count(*) FROM metadata_item_views WHERE guid = (SELECT guid FROM metadata_items WHERE id = ?)').pluck().get(a)).toBe(0);
    expect((await api(`/:/unscrobble?key=${a}&${library}`)).status).toBe(200);
    expect(setting(a)).toMatchObject({ view_count: 0 });

    expect((await api(`/:/timeline?ratingKey=${b}&key=/library/metadata/${b}&${library}&state=paused&time=600000&duration=6000000`)).status).toBe(200);
    expect(setting(b)).toMatchObject({ view_count: 0, view_offset: 600000 });
    expect((await api(`/:/rate?key=${c}&${library}&rating=8`, { method: 'PUT' })).status).toBe(200);
    expect(setting(c)).toMatchObject({ rating: 8 });

    // An episode played to the end twice: watched twice, two rows of history with its show and season.
    for (let i = 0; i < 2; i++)
      await api(`/:/timeline?ratingKey=${episode}&key=/library/metadata/${episode}&${library}&state=stopped&time=1790000&duration=1800000`);
    expect(setting(episode)).toMatchObject({ view_count: 2, view_offset: 0 });
    const history = db
      .prepare(
        'SELECT account_id, metadata_type, library_section_id, grandparent_title, parent_index FROM metadata_item_views WHERE guid = (SELECT guid FROM metadata_items WHERE id = ?)',
      )
      .all(episode);
    expect(history).toHaveLength(2);
    expect(history[0]).toMatchObject({ account_id: 1, metadata_type: 4, library_section_id: 2, parent_index: 1 });

    // What PMS refuses: an unknown item, another plug-in's identifier, a rating out of range.
    expect((await api(`/:/scrobble?key=999999&${library}`)).status).toBe(404);
    expect((await api(`/:/scrobble?key=${a}&identifier=com.plexapp.plugins.other`)).status).toBe(400);
    expect((await api(`/:/rate?key=${c}&${library}&rating=11`, { method: 'PUT' })).status).toBe(400);
  });

  it('PUT /library/parts/{id} records the chosen audio and subtitle streams; POST /playlists makes a playlist of items', async () => {
    const { sim, api, films } = await withLibrary();
    const db = sim.runtime.library.db;
    const part = db
      .prepare('SELECT mp.id FROM media_parts mp JOIN media_items mi ON mi.id = mp.media_item_id WHERE mi.metadata_item_id = ?')
      .pluck()
      .get(films[0]) as number;
    const audio = db.prepare('SELECT id FROM media_streams WHERE media_part_id = ? AND stream_type_id = 2').pluck().get(part) as number | undefined;
    // The film's sidecar subtitle is a stream of its part, with the file's url.
    const subtitle = db.prepare('SELECT id, url, language FROM media_streams WHERE media_part_id = ? AND stream_type_id = 3').get(part) as
      { id: number; url: string; language: string } | undefined;
    if (audio === undefined || subtitle === undefined) throw new Error('the double wrote no audio or subtitle stream');
    expect(subtitle).toMatchObject({ url: expect.stringMatching(/^file:\/\/.*\.en\.srt$/), language: 'en' });
    expect((await api(`/library/parts/${part}?audioStreamID=${audio}&subtitleStreamID=${subtitle.id}&allParts=1`, { method: 'PUT' })).status).toBe(200);
    expect(
      db.prepare('SELECT account_id, selected_audio_stream_id, selected_subtitle_stream_id FROM media_part_settings WHERE media_part_id = ?').get(part),
    ).toEqual({
      account_id: 1,
      selected_audio_stream_id: audio,
      selected_subtitle_stream_id: subtitle.id,
    });
    // 0 turns subtitles off again.
    expect((await api(`/library/parts/${part}?subtitleStreamID=0`, { method: 'PUT' })).status).toBe(200);
    expect(db.prepare('SELECT selected_subtitle_stream_id FROM media_part_settings WHERE media_part_id = ?').pluck().get(part)).toBe(0);
    expect((await api(`/library/parts/${part}?audioStreamID=424242`, { method: 'PUT' })).status).toBe(400);

    const uri = `server://0123/com.plexapp.plugins.library/library/metadata/${films.join(',')}`;
    const created = await api(`/playlists?type=video&title=${encodeURIComponent('Film night')}&smart=0&uri=${encodeURIComponent(uri)}`, { method: 'POST' });
    expect(created.status).toBe(200);
    const playlist = (created.xml?.MediaContainer as { Playlist: { ratingKey: string; leafCount: string } }).Playlist;
    expect(playlist.leafCount).toBe('4');
    expect(db.prepare('SELECT metadata_type, title, guid FROM metadata_items WHERE id = ?').get(Number(playlist.ratingKey))).toMatchObject({
      metadata_type: 15,
      title: 'Film night',
      guid: expect.stringMatching(/^com\.plexapp\.agents\.none:\/\/[0-9a-f-]{36}$/),
    });
    expect(
      db.prepare('SELECT metadata_item_id FROM play_queue_generators WHERE playlist_id = ? ORDER BY "order"').pluck().all(Number(playlist.ratingKey)),
    ).toEqual(films);
  });
});
