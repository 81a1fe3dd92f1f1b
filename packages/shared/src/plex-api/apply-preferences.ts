import { PlexliftError } from '../errors.js';
import type { PlexClient } from './plex-client.js';

export type PreferenceValue = boolean | number | string;

export interface PreferenceChange {
  id: string;
  before: PreferenceValue;
  after: PreferenceValue;
}

/**
 * Sets server preferences safely: every id is checked against what the server lists before
 * anything is written, each is written on its own, and each is read back and compared
 * (plex-api.md, Traps: an unknown id gets 400/403, so a request sent proves nothing).
 */
export async function applyPreferences(client: PlexClient, wanted: Record<string, PreferenceValue>, signal?: AbortSignal): Promise<PreferenceChange[]> {
  const current = new Map((await client.preferences(signal)).map((s) => [s.id, s]));
  const unknown = Object.keys(wanted).filter((id) => !current.has(id));
  if (unknown.length > 0) {
    throw new PlexliftError('PLEX_API_ERROR', `Plex has no preference ${unknown.map((id) => `"${id}"`).join(', ')}; nothing was changed`, {
      details: { unknown },
    });
  }
  const changes: PreferenceChange[] = [];
  for (const [id, value] of Object.entries(wanted)) {
    const before = current.get(id)!.value;
    await client.setPreference(id, value, signal);
    const after = (await client.preferences(signal)).find((s) => s.id === id)?.value;
    if (after === undefined || !sameValue(after, value)) {
      throw new PlexliftError('PLEX_API_ERROR', `Plex did not keep preference ${id}=${String(value)} (it reads ${String(after)})`, { details: { id } });
    }
    changes.push({ id, before, after });
  }
  return changes;
}

function sameValue(actual: PreferenceValue, wanted: PreferenceValue): boolean {
  const normalise = (v: PreferenceValue) =>
    v === true || v === '1' || v === 'true' ? 'true' : v === false || v === '0' || v === 'false' ? 'false' : String(v);
  return normalise(actual) === normalise(wanted);
}
