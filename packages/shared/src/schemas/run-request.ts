import { z } from 'zod';
import { BandwidthLimitSchema } from './bandwidth-limit.js';
import { ProviderNameSchema } from './provider-names.js';

/**
 * The switches of `plexlift run` that travel to the agent in its job spec. A new switch is one
 * line here: the CLI's flag is its name in kebab-case with the description as help, the admin
 * API takes it, and the runner copies it into the spec.
 */
export const JobSwitchesSchema = z.object({
  forceRefresh: z.boolean().default(false).describe('refresh all metadata (never with Sonic)'),
  skipAnalysis: z.boolean().default(false).describe('no media analysis (and so no Sonic)'),
  skipSonic: z.boolean().default(false).describe('no Sonic analysis'),
  allowDeletions: z.boolean().default(false).describe('install even when a scan lost more items than the deletion cap'),
});
export type JobSwitches = z.output<typeof JobSwitchesSchema>;

/**
 * How the controller runs a job, kept with the job's record; the agent never sees these. A name
 * `noX` is the CLI's `--no-x` (on by default).
 */
export const JobRunOptionsSchema = z.object({
  keep: z.boolean().default(false).describe('keep the VM after the archive is home (still under the lifetime cap)'),
  noInstall: z.boolean().default(false).describe('stop once the archive is verified at home (then plexlift install JOB)'),
  /** This run's lifetime budget in hours (within the provider's `maxHours`): the job lands before it. */
  maxHours: z.number().positive().optional(),
  /** This run's cost budget in euros (within the provider's `maxCost`): the job lands before it. */
  maxCost: z.number().positive().optional(),
  /** A scheduled run's window end (epoch ms): a deadline like the caps. Set by the scheduler, not a flag. */
  deadline: z.number().int().positive().optional(),
  /** The `schedule` entry that started the run. */
  schedule: z.string().min(1).max(100).optional(),
});
export type JobRunOptions = z.output<typeof JobRunOptionsSchema>;

export const JobModeSchema = z.enum(['scan', 'delta']);
export type JobMode = z.output<typeof JobModeSchema>;

/** Answers the CLI gives for the user, not kept with the job. */
export const RunConfirmationsSchema = z.object({
  /** Confirms a `scan` job over a library that has watch history (its ids change). */
  yes: z.boolean().default(false).describe('answer yes: a scan job over a library with watch history'),
});

/** `plexlift run`'s choices (DESIGN.md, "A job"): what the CLI sends and the admin API takes. */
export const RunRequestSchema = z
  .object({
    mode: JobModeSchema,
    /** Section names or ids; empty means every section. */
    sections: z.array(z.string().min(1)).default([]),
    /** The config's provider when absent. */
    provider: ProviderNameSchema.optional(),
    /** This run's limit on the archive transfers (`--bwlimit`): the config's `transfers.bwlimit` when absent; `off` lifts it. */
    bwlimit: BandwidthLimitSchema.optional(),
    ...JobSwitchesSchema.shape,
    ...JobRunOptionsSchema.shape,
    ...RunConfirmationsSchema.shape,
  })
  .strict();
export type RunRequestInput = z.input<typeof RunRequestSchema>;
export type RunRequest = z.output<typeof RunRequestSchema>;

/** The boolean choices of a run as the CLI offers them: one flag each. */
export const RUN_FLAGS = {
  ...JobSwitchesSchema.shape,
  keep: JobRunOptionsSchema.shape.keep,
  noInstall: JobRunOptionsSchema.shape.noInstall,
  ...RunConfirmationsSchema.shape,
};
