// Trying again after a failure that time may cure.
export * from './retry/backoff.js';
export * from './retry/race-signal.js';
