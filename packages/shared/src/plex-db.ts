// The Plex database toolkit: one operation per module (DESIGN.md, packages/shared).
export * from './plex-db/database-files.js';
export * from './plex-db/open-database.js';
export * from './plex-db/plex-codes.js';
export * from './plex-db/plex-schema.js';
export * from './plex-db/library-stats.js';
export * from './plex-db/stats-diff.js';
export * from './plex-db/sonic-progress.js';
export * from './plex-db/scratch-space.js';
export * from './plex-db/backup-database.js';
export * from './plex-db/integrity-check.js';
export * from './plex-db/recovery-engine.js';
export * from './plex-db/shell-checkpoint.js';
export { runSqliteShell, type SqliteShellCommand, type ShellResult } from './plex-db/sqlite-shell.js';
export * from './plex-db/repair-database.js';
export * from './plex-db/path-mappings.js';
export * from './plex-db/prefix-rules.js';
export * from './plex-db/path-leftovers.js';
export * from './plex-db/remap-paths.js';
