import { z } from 'zod';
import { PlexliftError } from '../errors.js';

const absolutePath = z.string().startsWith('/', { message: 'must be an absolute path' });

/** Settings of the Plex database toolkit (`plexlift db …`). */
export const DatabaseConfigSchema = z
  .object({
    /** A stock `sqlite3` shell built with DBPAGE, for `.recover`. Overridden by `PLEXLIFT_SQLITE3`. */
    sqlite3Path: absolutePath.optional(),
    /** Plex's own shell (`Plex SQLite`), preferred for repairs. @default found in Plex's install folder */
    plexSqlitePath: absolutePath.optional(),
    /** Folder for scratch copies made by checks and repairs. @default the system temp folder */
    scratchDir: absolutePath.optional(),
  })
  .strict();

/**
 * The plexlift configuration file (JSON, managed through `conf`). Each later part of plexlift
 * adds its section here; unknown keys are rejected so a typo never passes silently.
 */
export const ConfigSchema = z
  .object({
    database: DatabaseConfigSchema.default({}),
  })
  .strict();

/** What people write. */
export type ConfigInput = z.input<typeof ConfigSchema>;
/** What the program uses: defaults filled. */
export type Config = z.output<typeof ConfigSchema>;

/** Validates a parsed config file; the error names every bad field and where it came from. */
export function parseConfig(value: unknown, source: string): Config {
  const result = ConfigSchema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const field = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    return `${field}: ${issue.message}`;
  });
  throw new PlexliftError('CONFIG_INVALID', `config ${source}: ${problems.join('; ')}`, {
    details: { source, problems },
  });
}
