import { randomUUID } from 'node:crypto';
import { htmlError, type PlexReply, type PlexRequest, type Route } from './http-server.js';
import type { SimRuntime } from './runtime.js';
import { element } from './xml.js';

/** The owner's account: the double has one token, the owner's (account 1, as in the real DB). */
const OWNER = 1;
/** PMS counts a play watched once it passed 90 % of the item. */
const WATCHED_SHARE = 0.9;
const LIBRARY = 'com.plexapp.plugins.library';

interface ItemRow {
  id: number;
  guid: string;
  type: number;
  section: number | null;
  title: string;
  index: number | null;
  duration: number | null;
  parentTitle: string | null;
  parentIndex: number | null;
  grandparentTitle: string | null;
  grandparentGuid: string | null;
}

/**
 * The endpoints through which people change what is theirs in a library, and the rows PMS writes
 * for them: watched and unwatched (`/:/scrobble`, `/:/unscrobble`), play progress (`/:/timeline`,
 * `/:/progress`), ratings (`/:/rate`), playlists (`/playlists`), and the audio and subtitle
 * streams chosen for a part (`PUT /library/parts/{id}`). Watch state is per account and guid in
 * `metadata_item_settings`; each play that ends watched adds a row of history to
 * `metadata_item_views`. Marking a film, an episode or a track played (`/:/scrobble`) adds none
 * since PMS 1.40.0.7998 ("No longer create a view history entry for items marked as played",
 * its release notes, #10888, as python-plexapi's tests record in their pull request 1366); a show,
 * season, artist or album marked played still does.
 */
export function userStateRoutes(runtime: SimRuntime): Route[] {
  const db = runtime.library.db;
  const item = (key: string | null): ItemRow | undefined => {
    const id = Number((key ?? '').replace(/^\/library\/metadata\//, ''));
    if (!Number.isInteger(id) || id <= 0) return undefined;
    return db
      .prepare(
        `SELECT mi.id, mi.guid, mi.metadata_type AS type, mi.library_section_id AS section, mi.title, mi."index" AS "index", mi.duration,
                p.title AS parentTitle, p."index" AS parentIndex, gp.title AS grandparentTitle, gp.guid AS grandparentGuid
           FROM metadata_items mi LEFT JOIN metadata_items p ON p.id = mi.parent_id LEFT JOIN metadata_items gp ON gp.id = p.parent_id
          WHERE mi.id = ? AND mi.deleted_at IS NULL`,
      )
      .get(id) as ItemRow | undefined;
  };
  /** The item's settings row for the owner, made when first needed (as PMS does). */
  const settings = (target: ItemRow): number => {
    const found = db.prepare('SELECT id FROM metadata_item_settings WHERE account_id = ? AND guid = ? ORDER BY id').pluck().get(OWNER, target.guid) as
      number | undefined;
    if (found !== undefined) return found;
    const now = runtime.epoch();
    return Number(
      db
        .prepare('INSERT INTO metadata_item_settings (account_id, guid, view_count, created_at, updated_at, changed_at) VALUES (?, ?, 0, ?, ?, ?)')
        .run(OWNER, target.guid, now, now, changeStamp()).lastInsertRowid,
    );
  };
  let stamp = 0;
  /** `changed_at`: PMS's sync counter, increasing with every change. */
  const changeStamp = () => (stamp = Math.max(stamp + 1, runtime.epoch() * 1000));
  /** Leaf items (film, episode, track): marked played, they get no history row. */
  const LEAVES = new Set([1, 4, 10]);
  const scrobble = (target: ItemRow, { isPlay }: { isPlay: boolean }) => {
    const now = runtime.epoch();
    db.transaction(() => {
      db.prepare(
        'UPDATE metadata_item_settings SET view_count = view_count + 1, view_offset = 0, last_viewed_at = ?, updated_at = ?, changed_at = ? WHERE id = ?',
      ).run(now, now, changeStamp(), settings(target));
      if (!isPlay && LEAVES.has(target.type)) return;
      db.prepare(
        `INSERT INTO metadata_item_views (account_id, guid, metadata_type, library_section_id, grandparent_title, parent_index, parent_title, "index", title,
                                          viewed_at, grandparent_guid, device_id, view_type)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 0)`,
      ).run(
        OWNER,
        target.guid,
        target.type,
        target.section,
        target.grandparentTitle ?? '',
        target.parentIndex ?? -1,
        target.parentTitle ?? '',
        target.index ?? -1,
        target.title,
        now,
        target.grandparentGuid ?? '',
      );
    })();
  };
  const ok = (): PlexReply => ({ status: 200, html: '' });
  const onItem = (path: RegExp, method: string | string[], handle: (target: ItemRow, request: PlexRequest) => PlexReply): Route => ({
    method,
    path,
    handle: (request) => {
      const identifier = request.query.get('identifier');
      if (identifier !== null && identifier !== LIBRARY) return htmlError(400);
      const target = item(request.query.get('key') ?? request.query.get('ratingKey'));
      return target ? handle(target, request) : htmlError(404);
    },
  });

  return [
    onItem(/^\/:\/scrobble$/, ['GET', 'PUT'], (target) => {
      scrobble(target, { isPlay: false });
      return ok();
    }),
    onItem(/^\/:\/unscrobble$/, ['GET', 'PUT'], (target) => {
      const now = runtime.epoch();
      db.prepare('UPDATE metadata_item_settings SET view_count = 0, view_offset = 0, updated_at = ?, changed_at = ? WHERE id = ?').run(
        now,
        changeStamp(),
        settings(target),
      );
      return ok();
    }),
    onItem(/^\/:\/(timeline|progress)$/, ['GET', 'PUT', 'POST'], (target, request) => {
      const time = Number(request.query.get('time'));
      if (!Number.isFinite(time) || time < 0) return htmlError(400);
      const duration = Number(request.query.get('duration') ?? target.duration ?? 0);
      const state = request.query.get('state') ?? 'stopped';
      if (duration > 0 && time >= duration * WATCHED_SHARE && state === 'stopped') scrobble(target, { isPlay: true });
      else {
        const now = runtime.epoch();
        db.prepare('UPDATE metadata_item_settings SET view_offset = ?, last_viewed_at = ?, updated_at = ?, changed_at = ? WHERE id = ?').run(
          Math.round(time),
          now,
          now,
          changeStamp(),
          settings(target),
        );
      }
      return request.path === '/:/timeline' ? { status: 200, body: element('MediaContainer', { size: 0 }) } : ok();
    }),
    onItem(/^\/:\/rate$/, ['GET', 'PUT'], (target, request) => {
      const rating = Number(request.query.get('rating'));
      if (!Number.isFinite(rating) || rating < -1 || rating > 10) return htmlError(400);
      const now = runtime.epoch();
      // -1 clears a rating.
      db.prepare('UPDATE metadata_item_settings SET rating = ?, last_rated_at = ?, updated_at = ?, changed_at = ? WHERE id = ?').run(
        rating < 0 ? null : rating,
        rating < 0 ? null : now,
        now,
        changeStamp(),
        settings(target),
      );
      return ok();
    }),
    {
      method: 'PUT',
      path: /^\/library\/parts\/(\d+)$/,
      handle: (request) => {
        const part = Number(request.params[0]);
        if (db.prepare('SELECT 1 FROM media_parts WHERE id = ? AND deleted_at IS NULL').get(part) === undefined) return htmlError(404);
        const pick = (name: string, type: number): number | null | undefined => {
          const value = request.query.get(name);
          if (value === null) return undefined;
          const id = Number(value);
          // 0 turns subtitles off.
          if (id === 0 && type === 3) return 0;
          return db.prepare('SELECT 1 FROM media_streams WHERE id = ? AND media_part_id = ? AND stream_type_id = ?').get(id, part, type) ? id : null;
        };
        const audio = pick('audioStreamID', 2);
        const subtitle = pick('subtitleStreamID', 3);
        if (audio === null || subtitle === null || (audio === undefined && subtitle === undefined)) return htmlError(400);
        const now = runtime.epoch();
        const row = db.prepare('SELECT id FROM media_part_settings WHERE account_id = ? AND media_part_id = ?').pluck().get(OWNER, part) as number | undefined;
        if (row === undefined) {
          db.prepare(
            'INSERT INTO media_part_settings (account_id, media_part_id, selected_audio_stream_id, selected_subtitle_stream_id, created_at, updated_at, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
          ).run(OWNER, part, audio ?? null, subtitle ?? null, now, now, changeStamp());
        } else {
          db.prepare(
            `UPDATE media_part_settings SET selected_audio_stream_id = coalesce(?, selected_audio_stream_id),
                    selected_subtitle_stream_id = coalesce(?, selected_subtitle_stream_id), updated_at = ?, changed_at = ? WHERE id = ?`,
          ).run(audio ?? null, subtitle ?? null, now, changeStamp(), row);
        }
        return ok();
      },
    },
    {
      method: 'POST',
      path: /^\/playlists$/,
      handle: (request) => {
        const title = request.query.get('title');
        const type = request.query.get('type');
        if (!title || !type || request.query.get('smart') === '1') return htmlError(400);
        const items = itemsOf(request.query.get('uri'));
        if (items === undefined || items.some((id) => item(String(id)) === undefined)) return htmlError(400);
        const now = runtime.epoch();
        // A playlist is an item of no section (metadata_type 15); its entries point at the items by id.
        const playlist = Number(
          db
            .prepare(
              `INSERT INTO metadata_items (metadata_type, guid, title, title_sort, media_item_count, added_at, created_at, updated_at, changed_at)
               VALUES (15, ?, ?, ?, ?, ?, ?, ?, ?)`,
            )
            .run(`com.plexapp.agents.none://${randomUUID()}`, title, title, items.length, now, now, now, changeStamp()).lastInsertRowid,
        );
        const add = db.prepare(
          `INSERT INTO play_queue_generators (playlist_id, metadata_item_id, uri, "order", created_at, updated_at, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        );
        for (const [i, id] of items.entries()) add.run(playlist, id, null, (i + 1) * 1000, now, now, changeStamp());
        return {
          status: 200,
          body: element('MediaContainer', { size: 1 }, [
            element('Playlist', {
              ratingKey: playlist,
              key: `/playlists/${playlist}/items`,
              type: 'playlist',
              title,
              smart: 0,
              playlistType: type,
              leafCount: items.length,
            }),
          ]),
        };
      },
    },
  ];
}

/** `server://{machine}/com.plexapp.plugins.library/library/metadata/1,2,3`: the item ids. */
function itemsOf(uri: string | null): number[] | undefined {
  const match = /\/library\/metadata\/([\d,]+)$/.exec(uri ?? '');
  if (!match) return undefined;
  return match[1]!.split(',').map(Number);
}
