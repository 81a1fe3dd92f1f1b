/**
 * The modern agent and scanner of each section type, as PMS 1.43 creates them (plex-api.md
 * §2.3, from python-plexapi's bootstrap); a `scan` job creates its libraries with these.
 */
export const SECTION_AGENTS = {
  movie: { agent: 'tv.plex.agents.movie', scanner: 'Plex Movie' },
  show: { agent: 'tv.plex.agents.series', scanner: 'Plex TV Series' },
  artist: { agent: 'tv.plex.agents.music', scanner: 'Plex Music' },
  photo: { agent: 'com.plexapp.agents.none', scanner: 'Plex Photo Scanner' },
} as const;

export type LibraryType = keyof typeof SECTION_AGENTS;
