// The Docker Engine API, for the home Plex control and the agent's Plex runtime.
export * from './docker/docker-api.js';
export * from './docker/container-names.js';
