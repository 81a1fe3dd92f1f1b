// Child processes: stopping them, and what they said on stderr.
export * from './process/stop-child.js';
export * from './process/child-stderr.js';
