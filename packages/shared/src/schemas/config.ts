import { Cron } from 'croner';
import { z } from 'zod';
import { PlexliftError } from '../errors.js';
import { BandwidthLimitSchema } from './bandwidth-limit.js';
import { NotifyConfigSchema } from './notify-config.js';
import { plainIssue } from './plain-issues.js';
import { ProviderNameSchema, type ProviderName } from './provider-names.js';
import { JobModeSchema, JobSwitchesSchema } from './run-request.js';
import { VfsProfileNameSchema } from './vfs-profiles.js';

const absolutePath = z.string().startsWith('/', { message: 'must be an absolute path' });

/** What a shell, systemd or curl could read as more than part of an address (`$(…)`, quotes, spaces). */
const UNSAFE_IN_URL = /[\s'"`$\\<>{}|^;&()*!\p{Cc}]/u;

/**
 * An address the VM is told to call: it travels in cloud-init to a root shell and a unit, so it is
 * a plain http(s) URL and nothing else (no credentials, query, fragment or characters a shell reads).
 */
const publicUrlSchema = z.string().superRefine((text, context) => {
  const problem = (() => {
    if (UNSAFE_IN_URL.test(text)) return 'must not contain spaces, quotes, $, backticks, backslashes or shell characters';
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return 'must be a URL such as https://plex-home.example.net:7878';
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must start with https:// or http:// (not ${url.protocol})`;
    if (url.username || url.password || text.includes('@')) return 'must not carry credentials (user:password@)';
    if (text.includes('?') || text.includes('#')) return 'must not have a query (?…) or a fragment (#…)';
    if (!url.hostname) return 'must name a host';
    return undefined;
  })();
  if (problem) context.addIssue({ code: 'custom', message: problem });
});

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
  z
    .object({ type: z.literal('systemd'), unit: z.string().regex(/^[\w@.:-]+$/, { message: 'must be a systemd unit name such as plexmediaserver.service' }) })
    .strict(),
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
    owner: z
      .object({ uid: z.number().int().min(0), gid: z.number().int().min(0) })
      .strict()
      .optional(),
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
    /** Send `Metadata/` and `Media/` with the DB snapshot of a delta job (large; artwork kept as is). */
    restoreBundles: z.boolean().default(false),
    /** plex.tv, where claim tokens are minted and Plex Pass is checked (a double in tests). */
    plexTvUrl: z.url().default('https://plex.tv'),
  })
  .strict();
export type HomeConfig = z.output<typeof HomeConfigSchema>;

/** Where the media is for the cloud Plex: the rclone remote, mounted at home's path. */
export const MediaConfigSchema = z
  .object({
    mountPath: absolutePath,
    remote: z.string().regex(/^:?[\w.-]*:/, { message: 'must be an rclone remote path such as "s3:bucket/media"' }),
    vfsProfile: VfsProfileNameSchema.default('standard'),
    /** The rclone config holding the remote's credentials (sent to the agent over its channel, never in user data). */
    rcloneConfigPath: absolutePath.optional(),
    mappings: z.array(z.object({ from: z.string(), to: z.string() }).strict()).default([]),
  })
  .strict();

const AGENT_LOGS_DEFAULTS = { keepDays: 30, maxMegabytes: 200, rotateMegabytes: 20 };

/**
 * How much agent output the daemon keeps. A running agent's log is rotated as logrotate's
 * `copytruncate` does (the agent writes to a file the daemon opened for it, and outlives a daemon
 * restart), one older file kept; the logs of finished jobs are deleted by age, then oldest first.
 */
const AgentLogsConfigSchema = z
  .object({
    /** A finished job's agent log is deleted after this many days. */
    keepDays: z.number().int().min(1).default(AGENT_LOGS_DEFAULTS.keepDays),
    /** The logs folder is kept under this size, the oldest logs deleted first (never a live job's). */
    maxMegabytes: z.number().int().min(1).default(AGENT_LOGS_DEFAULTS.maxMegabytes),
    /** A running agent's log is rotated at this size (`agent.log.1`, one kept): a job's log stays under twice this. */
    rotateMegabytes: z.number().int().min(1).default(AGENT_LOGS_DEFAULTS.rotateMegabytes),
  })
  .strict()
  .refine((logs) => logs.rotateMegabytes * 2 <= logs.maxMegabytes, {
    path: ['rotateMegabytes'],
    message: 'must be at most half of maxMegabytes: one job keeps up to twice this (its log and the one rotated file), which must fit in the folder',
  });

/** The daemon: its port, its state, who may talk to it. */
export const ServerConfigSchema = z
  .object({
    port: z.number().int().min(1).max(65_535).default(7878),
    host: z.string().default('0.0.0.0'),
    /** How agents reach this daemon (`http(s)://host:port`); the local provider uses loopback. */
    publicUrl: publicUrlSchema.optional(),
    stateDir: absolutePath.default('/var/lib/plexlift'),
    /** The admin token's file (created 0600 on first start when missing). @default <stateDir>/admin-token */
    adminTokenFile: absolutePath.optional(),
    /** Finished jobs are forgotten after this many days. */
    keepJobsDays: z.number().int().min(1).default(90),
    /** An agent that has not said hello by then gets its machine deleted. */
    agentConnectTimeoutSeconds: z.number().int().min(10).default(900),
    /**
     * Added to the landing reserve (the time to stop Plex, export, upload and tear down, estimated
     * from sizes and measured rates, ×1.25): a budget's job lands this much earlier still.
     */
    landingMarginSeconds: z.number().min(0).default(120),
    /** The agents' output kept on this machine (local and docker providers): `<agents folder>/logs/<job>.log`. */
    agentLogs: AgentLogsConfigSchema.default(() => ({ ...AGENT_LOGS_DEFAULTS })),
    /**
     * HTTPS and WSS on the one port. Without files, a self-signed certificate is made at first
     * start in `<stateDir>/tls/` and agents pin its fingerprint. Off only behind a tunnel that
     * already encrypts (then `publicUrl` should be the tunnel's address).
     */
    tls: z
      .object({
        enabled: z.boolean().default(true),
        certFile: absolutePath.optional(),
        keyFile: absolutePath.optional(),
      })
      .strict()
      .refine((tls) => Boolean(tls.certFile) === Boolean(tls.keyFile), { message: 'certFile and keyFile go together: set both or neither' })
      .default({ enabled: true }),
    /** The web dashboard this port serves. */
    dashboard: z
      .object({
        /**
         * Addresses a browser opens it at besides `publicUrl` and this machine's own (loopback, its
         * own address): another reverse proxy's name. A page at any other address cannot use a session.
         */
        origins: z.array(publicUrlSchema).max(20).default([]),
      })
      .strict()
      .default({ origins: [] }),
  })
  .strict();

/** The `local` provider: the agent as a child process of the daemon, Plex as a local process. */
export const LocalProviderConfigSchema = z
  .object({
    /** argv of the Plex the agent starts (a `plexmediaserver` binary, or a double in tests). */
    plexCommand: z.array(z.string()).min(1),
    /** Where agents get their work folders. @default <stateDir>/agents */
    workDir: absolutePath.optional(),
    /** Extra agent settings (shorter waits in tests). */
    tuningFile: absolutePath.optional(),
  })
  .strict();

/**
 * The `docker` provider: the agent as a container on this machine (a local test mode: no cloud,
 * no cost), Plex in a sibling container through the same engine.
 */
export const DockerProviderConfigSchema = z
  .object({
    /** The agent's image (scripts/build-agent-image.sh). @default plexlift/agent:<version> */
    image: z.string().min(1).optional(),
    socketPath: absolutePath.default('/var/run/docker.sock'),
    /** Plex's image, tagged with the home's version. */
    plexImage: z.string().min(1).default('plexinc/pms-docker'),
    /** Where Plex answers (host network). @default http://127.0.0.1:32400 */
    plexUrl: z.url().optional(),
    /** Extra environment for Plex's container. */
    plexEnv: z.record(z.string(), z.string()).default({}),
    /** Where agents get their work folders. @default <stateDir>/agents */
    workDir: absolutePath.optional(),
    /** Extra agent settings (shorter waits in tests). */
    tuningFile: absolutePath.optional(),
  })
  .strict();
export type DockerProviderConfig = z.output<typeof DockerProviderConfigSchema>;

/**
 * The `scaleway` provider: one Instance per job, deleted with everything it made. Credentials come
 * from here or from the standard `SCW_*` environment variables (`SCW_ACCESS_KEY`, `SCW_SECRET_KEY`,
 * `SCW_DEFAULT_PROJECT_ID`, `SCW_API_URL`, …).
 */
export const ScalewayProviderConfigSchema = z
  .object({
    zone: z
      .string()
      .regex(/^[a-z]{2}-[a-z]{3}-[1-9]$/, { message: 'must be a Scaleway zone such as fr-par-1' })
      .default('fr-par-1'),
    /** The Instance type: dedicated vCPUs suit Plex's analysis (POP2-HC: compute-optimised). */
    commercialType: z
      .string()
      .regex(/^[A-Z0-9][A-Z0-9-]+$/, { message: 'must be an Instance type such as POP2-HC-8C-16G' })
      .default('POP2-HC-8C-16G'),
    /** Marketplace label of the OS image (resolved per zone and type). */
    image: z
      .string()
      .regex(/^[a-z0-9_]+$/, { message: 'must be a marketplace image label such as debian_bookworm' })
      .default('debian_bookworm'),
    /** Root (SBS) volume size: the OS, Plex's data dir and the archive. */
    rootVolumeGb: z.number().int().min(10).max(10_000).default(50),
    accessKey: z
      .string()
      .regex(/^SCW[A-Z0-9]{17}$/i, { message: 'must be a Scaleway access key (SCW followed by 17 characters)' })
      .optional(),
    secretKey: z.uuid({ message: 'must be a Scaleway secret key (a UUID)' }).optional(),
    projectId: z.uuid({ message: 'must be a Scaleway project id (a UUID)' }).optional(),
    /** The API's address (a proxy, or a double in tests); `SCW_API_URL` also sets it. */
    apiUrl: z.url().optional(),
    /** €/hour when the API's catalogue has no price for the type. */
    hourlyPrice: z.number().min(0).optional(),
    /** Hard caps per job, enforced by the controller with a teardown. */
    maxHours: z.number().positive().default(12),
    maxCost: z.number().positive().default(10),
    /** How often machines tagged plexlift that no job owns are looked for. */
    reaperIntervalMinutes: z.number().min(1).default(10),
    /**
     * argv of Plex on the VM (the agent adds `--data-dir`), for an image that brings its own Plex.
     * @default the official `plexinc/pms-docker` image at the home's version, in the VM's Docker
     */
    plexCommand: z.array(z.string()).min(1).optional(),
    /** How long a machine may take from power-on to `running`. */
    bootTimeoutSeconds: z.number().int().min(30).default(600),
  })
  .strict();
export type ScalewayProviderConfig = z.output<typeof ScalewayProviderConfigSchema>;

/** Why `pattern` cannot schedule runs (croner reads it as the daemon will), or undefined when it can. */
function cronProblem(pattern: string): string | undefined {
  let cron: Cron;
  try {
    cron = new Cron(pattern);
  } catch (error) {
    return `not a cron expression: ${(error as Error).message.replace(/^CronPattern: /, '')} (e.g. "0 22 * * *" for 22:00 every day)`;
  }
  // croner also takes an ISO date as a one-off: a schedule repeats.
  if (cron.getPattern() === undefined) return 'must be a cron expression (minute hour day month weekday, seconds first when six), not a date';
  if (cron.nextRun() === null) return 'never matches a date from now on';
  return undefined;
}

const cronSchema = z.string().superRefine((pattern, context) => {
  const problem = cronProblem(pattern);
  if (problem) context.addIssue({ code: 'custom', message: problem });
});

/**
 * The job a scheduled burst runs: `plexlift run`'s choices that suit an unattended run (no `keep`
 * or `noInstall`: each burst brings its work home and installs it, so the next one goes on).
 */
export const ScheduledRunSchema = z
  .object({
    mode: JobModeSchema,
    /** Section names or ids; empty means every section. */
    sections: z.array(z.string().min(1)).default([]),
    /** The config's provider when absent. */
    provider: ProviderNameSchema.optional(),
    ...JobSwitchesSchema.shape,
  })
  .strict();

/**
 * One scheduled burst: at each time `cron` matches (the daemon's local time), the daemon starts a
 * run whose deadline is the window's end; it lands before it. A window longer than the provider's
 * `maxHours` is allowed: the cap wins, and the run lands before whichever ends first. A run due
 * while a job of the library is live is skipped (and recorded); a daemon down at the start time
 * starts it when it comes back within the window, and not after.
 */
export const ScheduleEntrySchema = z
  .object({
    /** How logs, `plexlift schedule` and the runs' records name it. */
    name: z
      .string()
      .max(100)
      .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, { message: 'must be kebab-case (lower-case letters, digits and single hyphens), such as nightly-sonic' }),
    /** Five fields (minute hour day month weekday), or six with seconds first; croner's syntax (L, W, #, MON-FRI, @daily). */
    cron: cronSchema,
    /** From each start to the run's deadline. */
    windowHours: z.number().positive(),
    /** Each run's cost budget in euros: at most the provider's `maxCost` (checked at load for Scaleway). */
    maxCost: z.number().positive().optional(),
    run: ScheduledRunSchema,
    /** `complete`: no more runs once `plexlift progress` says nothing is left. */
    until: z.literal('complete').optional(),
  })
  .strict();
export type ScheduleEntry = z.output<typeof ScheduleEntrySchema>;

const ScheduleSchema = z.array(ScheduleEntrySchema).superRefine((entries, context) => {
  const first = new Map<string, number>();
  entries.forEach((entry, i) => {
    const earlier = first.get(entry.name);
    if (earlier === undefined) first.set(entry.name, i);
    else
      context.addIssue({ code: 'custom', path: [i, 'name'], message: `"${entry.name}" is already the name of schedule[${earlier}]; each entry needs its own` });
  });
});

/**
 * The plexlift configuration file (JSON, managed through `conf`). Each later part of plexlift
 * adds its section here; unknown keys are rejected so a typo never passes silently.
 */
export const ConfigSchema = z
  .object({
    database: DatabaseConfigSchema.default({}),
    home: HomeConfigSchema.optional(),
    media: MediaConfigSchema.optional(),
    server: ServerConfigSchema.default({
      port: 7878,
      host: '0.0.0.0',
      stateDir: '/var/lib/plexlift',
      keepJobsDays: 90,
      agentConnectTimeoutSeconds: 900,
      landingMarginSeconds: 120,
      agentLogs: { ...AGENT_LOGS_DEFAULTS },
      tls: { enabled: true },
      dashboard: { origins: [] },
    }),
    /** The provider `plexlift run` uses when `--provider` is not given: never a cloud by surprise. */
    provider: ProviderNameSchema.optional(),
    /** One section per provider, named as in PROVIDER_NAMES; a provider without one is not set up. */
    providers: z
      .object({
        local: LocalProviderConfigSchema.optional(),
        docker: DockerProviderConfigSchema.optional(),
        scaleway: ScalewayProviderConfigSchema.optional(),
      } satisfies Record<ProviderName, z.ZodType>)
      .strict()
      .default({}),
    /** Who is told when a job ends, fails, lands or hits its cap, and when the reaper deletes something. */
    notify: NotifyConfigSchema.optional(),
    /** Scheduled bursts the daemon starts (`plexlift schedule` lists them). */
    schedule: ScheduleSchema.default([]),
    /** The archive transfers between home and the agent (the restore and the upload). */
    transfers: z
      .object({
        /**
         * At most this much bandwidth each way, in rclone's `--bwlimit` syntax (`10M` is 10 MiB/s,
         * `512K`, bytes per second, `off`); `plexlift run --bwlimit` overrides it for a run. @default off
         */
        bwlimit: BandwidthLimitSchema.optional(),
      })
      .strict()
      .default({}),
  })
  .strict()
  .superRefine((config, context) => {
    // A budget above the cap would be refused at every start: said at load instead.
    config.schedule.forEach((entry, i) => {
      const cap = (entry.run.provider ?? config.provider) === 'scaleway' ? config.providers.scaleway?.maxCost : undefined;
      if (entry.maxCost !== undefined && cap !== undefined && entry.maxCost > cap)
        context.addIssue({
          code: 'custom',
          path: ['schedule', i, 'maxCost'],
          message: `${entry.maxCost} is above providers.scaleway.maxCost (${cap}); the provider's cap is the limit`,
        });
    });
  });

/** What people write. */
export type ConfigInput = z.input<typeof ConfigSchema>;
/** What the program uses: defaults filled. */
export type Config = z.output<typeof ConfigSchema>;

/** Validates a parsed config file; the error names every bad field and where it came from. */
export function parseConfig(value: unknown, source: string): Config {
  const result = ConfigSchema.safeParse(value, { error: plainIssue });
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const field = issue.path.length > 0 ? fieldName(issue.path) : '(top level)';
    return `${field}: ${issue.message}`;
  });
  const unknownKeys = result.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys' ? issue.keys.map((key) => fieldName([...issue.path, key])) : [],
  );
  throw new PlexliftError('CONFIG_INVALID', `config ${source}: ${problems.join('; ')}`, {
    details: { source, problems, unknownKeys },
  });
}

/** A field as people find it in the file: `schedule[1].cron`, `server.tls`. */
function fieldName(path: readonly PropertyKey[]): string {
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i > 0 ? '.' : ''}${String(key)}`)).join('');
}
