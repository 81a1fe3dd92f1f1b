import { readPreferences, writePreferences, type Preferences } from './preferences-file.js';
import { SERVER_SETTINGS, findSetting, parseSettingValue, serializeSettingValue, type SettingDefinition } from './server-settings.js';

export type SettingValue = boolean | number | string;

/**
 * Server settings as PMS keeps them: non-default values as attributes of Preferences.xml.
 * `set` validates every id first and applies nothing when one is unknown or malformed.
 */
export class ServerPreferences {
  constructor(private readonly path: string) {}

  file(): Preferences {
    return readPreferences(this.path);
  }

  value(id: string): SettingValue {
    const setting = findSetting(id);
    if (!setting) throw new Error(`unknown setting ${id}`);
    const stored = this.file().get(id);
    return stored === undefined ? setting.default : (parseSettingValue(setting, stored) ?? setting.default);
  }

  all(): { setting: SettingDefinition; value: SettingValue }[] {
    const file = this.file();
    return SERVER_SETTINGS.map((setting) => {
      const stored = file.get(setting.id);
      return { setting, value: stored === undefined ? setting.default : (parseSettingValue(setting, stored) ?? setting.default) };
    });
  }

  /** Returns the first problem, or undefined once everything was written. */
  set(changes: [string, string][]): { status: 400; message: string } | undefined {
    const parsed: [SettingDefinition, SettingValue][] = [];
    for (const [id, raw] of changes) {
      const setting = findSetting(id);
      if (!setting) return { status: 400, message: `Attempt to set a preferences that doesn't exist: ${id}` };
      const value = parseSettingValue(setting, raw);
      if (value === undefined) return { status: 400, message: `Invalid value for preference ${id}: ${raw}` };
      parsed.push([setting, value]);
    }
    const file = this.file();
    for (const [setting, value] of parsed) file.set(setting.id, serializeSettingValue(value));
    writePreferences(this.path, file);
    return undefined;
  }

  token(): string | undefined {
    return this.file().get('PlexOnlineToken');
  }
}
