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

/** How the controller stops and starts the home Plex around an install. */
export const PlexControlSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('docker'), container: z.string().min(1), socketPath: absolutePath.default('/var/run/docker.sock') }).strict(),
  z.object({ type: z.literal('systemd'), unit: z.string().regex(/^[\w@.:-]+$/, { message: 'must be a systemd unit name such as plexmediaserver.service' }) }).strict(),
  z
    .object({
      type: z.literal('command'),
      /** argv arrays, run without a shell; each returns once Plex has stopped or started. */
      stop: z.array(z.string()).min(1),
      start: z.array(z.string()).min(1),
    })
    .strict(),
]);
export type PlexControlConfig = z.output<typeof PlexControlSchema>;

/** The home Plex: where its data lives, how to reach it, how to stop and start it. */
export const HomeConfigSchema = z
  .object({
    /** `…/Library/Application Support/Plex Media Server` of the home server. */
    plexDataDir: absolutePath,
    plexUrl: z.url({ message: 'must be a URL such as http://127.0.0.1:32400' }).default('http://127.0.0.1:32400'),
    /** The owner's token; read from the home Preferences.xml (`PlexOnlineToken`) when absent. */
    plexToken: z.string().min(1).optional(),
    control: PlexControlSchema,
    /** Owner of the installed files (the home Plex's user). @default the owner of the current DB */
    owner: z.object({ uid: z.number().int().min(0), gid: z.number().int().min(0) }).strict().optional(),
    backups: z
      .object({
        /** @default <stateDir>/backups */
        dir: absolutePath.optional(),
        /** Backups kept; the oldest go first. */
        keep: z.number().int().min(1).default(3),
      })
      .strict()
      .default({ keep: 3 }),
    /** How long the home Plex may take to come back with the right counts. */
    startTimeoutSeconds: z.number().int().min(5).default(300),
  })
  .strict();
export type HomeConfig = z.output<typeof HomeConfigSchema>;

/**
 * The plexlift configuration file (JSON, managed through `conf`). Each later part of plexlift
 * adds its section here; unknown keys are rejected so a typo never passes silently.
 */
export const ConfigSchema = z
  .object({
    database: DatabaseConfigSchema.default({}),
    home: HomeConfigSchema.optional(),
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
