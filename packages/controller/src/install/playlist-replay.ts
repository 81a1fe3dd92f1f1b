import { PlexClient } from '@plexlift/shared/plex-api';
import { closeDatabase, openDatabaseReadOnly, type PlaylistChange } from '@plexlift/shared/plex-db';

export interface PlaylistReplay {
  carried: { title: string; items: number; missing: number }[];
  notCarried: { title: string; reason: string }[];
}

/**
 * The playlists made at home during the job, made again by the home Plex once it runs the new
 * library: through its API, since a playlist is a row of `metadata_items`, under the collating
 * indexes and FTS triggers only Plex may write. Their items are found by guid in the new library.
 * A playlist that cannot be made is reported, never a reason to undo the install.
 */
export async function replayPlaylists(plex: { url: string; token: string }, homeDb: string, changes: PlaylistChange[]): Promise<PlaylistReplay> {
  const replay: PlaylistReplay = { carried: [], notCarried: [] };
  for (const change of changes) {
    if (change.change === 'changed')
      replay.notCarried.push({ title: change.title, reason: 'changed at home during the job: the new library has it as it was before; edit it again' });
    if (change.change === 'removed')
      replay.notCarried.push({ title: change.title, reason: 'deleted at home during the job: the new library still has it; delete it again' });
  }
  const added = changes.filter((change) => change.change === 'added');
  if (added.length === 0) return replay;
  const client = new PlexClient(plex);
  let machineIdentifier: string;
  try {
    machineIdentifier = (await client.identity()).machineIdentifier;
  } catch (error) {
    for (const change of added) replay.notCarried.push({ title: change.title, reason: `the home Plex did not answer (${(error as Error).message})` });
    return replay;
  }
  const db = openDatabaseReadOnly(homeDb);
  let found: { change: PlaylistChange; ids: number[] }[];
  try {
    const byGuid = db.prepare('SELECT id FROM metadata_items WHERE guid = ? AND deleted_at IS NULL ORDER BY id').pluck();
    // A `local://` guid is built from a local id: in the new library it names another item.
    found = added.map((change) => ({
      change,
      ids: change.items
        .filter((guid) => !guid.startsWith('local://'))
        .map((guid) => byGuid.get(guid) as number | undefined)
        .filter((id) => id !== undefined),
    }));
  } finally {
    closeDatabase(db);
  }
  for (const { change, ids } of found) {
    if (ids.length === 0) {
      replay.notCarried.push({ title: change.title, reason: 'none of its items is in the new library' });
      continue;
    }
    try {
      await client.createPlaylist({ title: change.title, type: change.type, machineIdentifier, itemIds: ids });
      replay.carried.push({ title: change.title, items: ids.length, missing: change.items.length - ids.length });
    } catch (error) {
      replay.notCarried.push({ title: change.title, reason: `the home Plex refused it (${(error as Error).message})` });
    }
  }
  return replay;
}
