// Archives that travel between the VM and home.
export * from './archive/extract-archive.js';
export * from './archive/library-entries.js';
export * from './archive/archive-chunks.js';
export * from './archive/plex-archive.js';
export * from './archive/child-exit.js';
