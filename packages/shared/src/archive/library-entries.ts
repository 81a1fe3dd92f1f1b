/**
 * What a Plex library archive may hold, relative to `…/Plex Media Server/` (plex-api.md §6.1):
 * the DBs under `Plug-in Support/Databases/`, `Metadata/` and `Media/`, and the folders leading
 * there. Never `Preferences.xml`: a server seeded with another one's skips claiming and takes
 * on its identity and token (plex-api.md, Traps: don't carry `Preferences.xml`), and the home
 * one is never replaced.
 */
export const PLEX_LIBRARY_ENTRIES = {
  describe: 'a Plex library archive (only Plug-in Support/Databases/, Metadata/ and Media/)',
  test: (path: string): boolean => {
    const clean = path.replace(/^\.\//, '').replace(/\/+$/, '');
    if (clean === 'Plug-in Support' || clean === 'Metadata' || clean === 'Media') return true;
    return clean === 'Plug-in Support/Databases' || /^(Plug-in Support\/Databases|Metadata|Media)\//.test(clean);
  },
};
