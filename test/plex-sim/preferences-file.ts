import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

/** `Preferences.xml`: one `<Preferences …/>` element whose attributes are the settings. */
export type Preferences = Map<string, string>;

export function readPreferences(path: string): Preferences {
  const preferences: Preferences = new Map();
  if (!existsSync(path)) return preferences;
  const text = readFileSync(path, 'utf8');
  const element = /<Preferences\b([^>]*?)\/?>/.exec(text)?.[1] ?? '';
  for (const match of element.matchAll(/([A-Za-z_][\w.-]*)="([^"]*)"/g)) {
    preferences.set(match[1]!, unescape(match[2]!));
  }
  return preferences;
}

export function writePreferences(path: string, preferences: Preferences): void {
  const attributes = [...preferences].map(([name, value]) => ` ${name}="${escape(value)}"`).join('');
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, `<?xml version="1.0" encoding="utf-8"?>\n<Preferences${attributes}/>\n`);
  renameSync(temporary, path);
}

/**
 * What the image's first-run script does before PMS starts (plex-api.md §1.4): a minimal file
 * with a machine identity when there is none.
 */
export function ensureIdentity(path: string, options: { transcodeDir?: string }): Preferences {
  const preferences = readPreferences(path);
  if (!preferences.has('MachineIdentifier')) {
    const machine = randomUUID();
    preferences.set('MachineIdentifier', machine);
    preferences.set('ProcessedMachineIdentifier', createHash('sha1').update(`${machine}- Plex Media Server`).digest('hex'));
    preferences.set('AnonymousMachineIdentifier', randomUUID());
    if (options.transcodeDir) preferences.set('TranscoderTempDirectory', options.transcodeDir);
    preferences.set('OldestPreviousVersion', 'legacy');
    writePreferences(path, preferences);
  }
  return preferences;
}

function escape(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
}

function unescape(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
