export * from './errors.js';
export * from './schemas/config.js';
