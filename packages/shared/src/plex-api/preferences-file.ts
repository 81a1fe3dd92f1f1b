import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A server's `Preferences.xml` (`…/Plex Media Server/Preferences.xml`): one element whose
 * attributes are the settings that differ from Plex's defaults, plus its identity and token.
 * Read only: plexlift never writes a server's Preferences.xml.
 */
export function readPreferencesFile(pmsDir: string): Map<string, string> {
  const xml = readFileSync(join(pmsDir, 'Preferences.xml'), 'utf8');
  return new Map([...xml.matchAll(/\b(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}
