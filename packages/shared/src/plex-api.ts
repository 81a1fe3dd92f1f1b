// The Plex Media Server API toolkit: a typed client and the waits and writes built on it.
export * from './plex-api/plex-api-schemas.js';
export * from './plex-api/plex-client.js';
export * from './plex-api/wait-for-ready.js';
export * from './plex-api/apply-preferences.js';
export * from './plex-api/analyses.js';
export * from './plex-api/section-agents.js';
export * from './plex-api/preferences-file.js';
