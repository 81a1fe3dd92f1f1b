import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { runCli } from '../utils/run-cli.js';
import { readStatsOf } from '../utils/sqlite-files.js';
import { prepare } from './plexlift-fixture.js';

const LIBRARY = 'identifier=com.plexapp.plugins.library';

/** Reads the home DB (ids to call the API with, and what it holds after the install). */
function query<T>(path: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

describe('a delta job while the household uses the home Plex', () => {
  it(
    'everything they did during the job is in the home DB after the install, with the new films, and the report lists it per table',
    { timeout: 240_000 },
    async () => {
      const { home, configPath } = await prepare({
        sections: ['movie', 'show', 'artist'],
        media: { movies: 45, subtitledMovies: 1, shows: 1, seasons: 1, episodes: 3, artists: 1, albums: 1, tracks: 3 },
      });
      const call = async (path: string, method = 'GET') => {
        const reply = await fetch(`${home.url}${path}`, { method });
        if (!reply.ok) throw new Error(`${method} ${path}: HTTP ${reply.status}`);
        return reply;
      };
      const films = query<{ id: number; guid: string }>(home.paths.mainDb, 'SELECT id, guid FROM metadata_items WHERE metadata_type = 1 ORDER BY title');
      const [episode] = query<{ id: number; guid: string }>(home.paths.mainDb, 'SELECT id, guid FROM metadata_items WHERE metadata_type = 4 ORDER BY id');
      const [subtitled] = query<{ part: number; stream: number; item: number }>(
        home.paths.mainDb,
        `SELECT mp.id AS part, ms.id AS stream, mi.metadata_item_id AS item FROM media_streams ms
           JOIN media_parts mp ON mp.id = ms.media_part_id JOIN media_items mi ON mi.id = mp.media_item_id WHERE ms.stream_type_id = 3`,
      );
      expect(films).toHaveLength(45);
      const watched = films.slice(0, 30);
      const unwatched = films.slice(30, 33);
      const progress = films.slice(33, 43);
      const rated = films.slice(0, 5);
      // Watched before the job: in the snapshot it starts from.
      for (const film of unwatched) await call(`/:/scrobble?key=${film.id}&${LIBRARY}`);

      let shown = '';
      const running = runCli(['run', '--mode', 'delta', '--wait', '--config', configPath], { onStderr: (chunk) => (shown += chunk) });
      await vi.waitFor(() => expect(shown).toContain('✓ provision'), { timeout: 60_000, interval: 50 });
      // While the agent works: the household's evening.
      for (const film of watched) await call(`/:/scrobble?key=${film.id}&${LIBRARY}`);
      for (const film of unwatched) await call(`/:/unscrobble?key=${film.id}&${LIBRARY}`);
      for (const [i, film] of progress.entries())
        await call(`/:/timeline?ratingKey=${film.id}&key=/library/metadata/${film.id}&${LIBRARY}&state=stopped&time=${(i + 1) * 60_000}&duration=6000000`);
      for (const [i, film] of rated.entries()) await call(`/:/rate?key=${film.id}&${LIBRARY}&rating=${i + 6}`, 'PUT');
      for (let i = 0; i < 2; i++)
        await call(`/:/timeline?ratingKey=${episode!.id}&key=/library/metadata/${episode!.id}&${LIBRARY}&state=stopped&time=1790000&duration=1800000`);
      const uri = `server://home/com.plexapp.plugins.library/library/metadata/${films
        .slice(40, 44)
        .map((f) => f.id)
        .join(',')}`;
      await call(`/playlists?type=video&title=Weekend&smart=0&uri=${encodeURIComponent(uri)}`, 'POST');
      await call(`/library/parts/${subtitled!.part}?subtitleStreamID=${subtitled!.stream}&allParts=1`, 'PUT');
      expect(shown, 'the install had not started yet').not.toContain('› install');

      const run = await running;
      expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);

      const settings = new Map(
        query<{ guid: string; view_count: number; view_offset: number | null; rating: number | null }>(
          home.paths.mainDb,
          'SELECT guid, view_count, view_offset, rating FROM metadata_item_settings WHERE account_id = 1',
        ).map((row) => [row.guid, row]),
      );
      for (const film of watched) expect(settings.get(film.guid)?.view_count, film.guid).toBe(1);
      for (const film of unwatched) expect(settings.get(film.guid)?.view_count).toBe(0);
      for (const [i, film] of progress.entries()) expect(settings.get(film.guid)?.view_offset).toBe((i + 1) * 60_000);
      for (const [i, film] of rated.entries()) expect(settings.get(film.guid)?.rating).toBe(i + 6);
      expect(settings.get(episode!.guid)?.view_count).toBe(2);
      expect(query(home.paths.mainDb, 'SELECT viewed_at FROM metadata_item_views WHERE guid = ?', episode!.guid)).toHaveLength(2);
      const [choice] = query<{ subtitle: number; url: string }>(
        home.paths.mainDb,
        `SELECT ps.selected_subtitle_stream_id AS subtitle, ms.url FROM media_part_settings ps JOIN media_streams ms ON ms.id = ps.selected_subtitle_stream_id
          JOIN media_parts mp ON mp.id = ps.media_part_id JOIN media_items mi ON mi.id = mp.media_item_id WHERE mi.metadata_item_id = ?`,
        subtitled!.item,
      );
      expect(choice?.url).toMatch(/\.en\.srt$/);
      // The job's own work: the two films home had not scanned.
      expect(readStatsOf(home.paths.mainDb).library.sections.find((s) => s.title === 'Movies')?.counts.movie).toBe(47);

      // 30 watched, 3 unwatched, 10 in progress (the 5 rated are among the watched), the episode.
      expect(run.stdout).toMatch(/^carried from home: metadata_item_settings 44 rows$/m);
      // The episode's two plays; the 30 films marked watched add no history (PMS 1.40.0.7998 and later).
      expect(run.stdout).toMatch(/^carried from home: metadata_item_views 2 rows$/m);
      expect(run.stdout).toMatch(/^carried from home: media_part_settings 1 rows$/m);
      // The playlist, made again by the home Plex on the new library, its items in order.
      expect(run.stdout).toMatch(/^carried from home: playlist "Weekend" \(4 items\)$/m);
      const playlist = query<{ guid: string }>(
        home.paths.mainDb,
        `SELECT i.guid FROM play_queue_generators g JOIN metadata_items p ON p.id = g.playlist_id JOIN metadata_items i ON i.id = g.metadata_item_id
          WHERE p.metadata_type = 15 AND p.title = 'Weekend' ORDER BY g."order"`,
      );
      expect(playlist.map((row) => row.guid)).toEqual(films.slice(40, 44).map((film) => film.guid));
      expect(run.stdout).not.toMatch(/changed at home, not carried/);
    },
  );
});
