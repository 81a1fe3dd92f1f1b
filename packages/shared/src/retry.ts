// Trying again after a failure that time may cure.
export * from './retry/backoff.js';
