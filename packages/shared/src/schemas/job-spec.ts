import { z } from 'zod';
import { PlexliftError } from '../errors.js';
import { validatePathMappings } from '../plex-db/path-mappings.js';
import { MIN_TRANSFER_BYTES_PER_SECOND } from '../transfer/contract.js';
import { DeletionCapSchema } from './deletion-cap.js';
import { JobModeSchema, JobSwitchesSchema } from './run-request.js';
import { VfsProfileNameSchema } from './vfs-profiles.js';

const absolutePath = z.string().refine((path) => path.startsWith('/'), { message: 'must be an absolute path' });

/** The Plex analyses a job can run, each tied to a real preference and Butler task (plex-api.md §3.2). */
export const AnalysesSchema = z
  .object({
    deepMediaAnalysis: z.boolean(),
    previewThumbnails: z.boolean(),
    chapterThumbnails: z.boolean(),
    introMarkers: z.boolean(),
    creditsMarkers: z.boolean(),
    loudness: z.boolean(),
    sonic: z.boolean(),
  })
  .partial()
  .strict();

/**
 * What the controller sends the agent: the whole job, validated before anything starts. Only
 * plain settings travel here; secrets (storage credentials, claim token) come separately over
 * the authenticated channel.
 */
export const JobSpecSchema = z
  .object({
    jobId: z.string().regex(/^[a-z0-9][a-z0-9-]{3,63}$/, { message: 'must be 4–64 lowercase letters, digits or dashes' }),
    mode: JobModeSchema,
    /** Section names or ids; empty means every section. */
    sections: z.array(z.string().min(1)).default([]),
    /** The libraries to create for a `scan` job (a `delta` job has the home ones). */
    libraries: z
      .array(z.object({ name: z.string().min(1), type: z.enum(['movie', 'show', 'artist', 'photo']), locations: z.array(absolutePath).min(1) }).strict())
      .default([]),
    ...JobSwitchesSchema.shape,
    deletionCap: DeletionCapSchema,
    plex: z
      .object({
        /** The home server's version, pinned on the VM (a newer PMS migrates the DB forward). */
        version: z.string().regex(/^\d+\.\d+\.\d+\.\d+-[0-9a-f]+$/, { message: 'must be a full PMS version such as 1.43.2.10687-563d026ea' }),
      })
      .strict(),
    media: z
      .object({
        /** Where home mounts the media; the VM mounts it at the same path. */
        mountPath: absolutePath,
        /** The rclone remote (`name:bucket/path`). */
        remote: z.string().min(1),
        vfsProfile: VfsProfileNameSchema.default('standard'),
      })
      .strict(),
    /** Prefixes to rewrite home → cloud (and back at export). */
    mappings: z.array(z.object({ from: z.string(), to: z.string() }).strict()).default([]),
    analyses: AnalysesSchema.default({}),
    /** When home cannot be reached: how long the agent waits before it keeps the archive itself. */
    offline: z
      .object({
        holdAfterMinutes: z.number().min(0).default(30),
        /** An rclone remote path (`remote:bucket/folder`) where a held archive is also copied. */
        archiveRemote: z
          .string()
          .regex(/^:?[\w.-]*:/, { message: 'must be an rclone remote path such as "s3:bucket/plexlift"' })
          .optional(),
      })
      .strict()
      .default({ holdAfterMinutes: 30 }),
    /** The most bytes per second the archive transfers (restore and upload) may use each way; absent: no limit. */
    bwlimitBytesPerSecond: z
      .number()
      .int()
      .min(MIN_TRANSFER_BYTES_PER_SECOND, { message: `must be at least ${MIN_TRANSFER_BYTES_PER_SECOND} (64 KiB/s): home cuts a slower chunk as stalled` })
      .optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    if (spec.mode === 'scan' && spec.libraries.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['libraries'], message: 'a scan job needs at least one library to create' });
    }
    const root = spec.media.mountPath.replace(/\/+$/, '');
    for (const [i, library] of spec.libraries.entries()) {
      for (const [j, location] of library.locations.entries()) {
        if (location !== root && !location.startsWith(`${root}/`)) {
          ctx.addIssue({
            code: 'custom',
            path: ['libraries', i, 'locations', j],
            message: `${location} is not under the media mount ${root}, so Plex on the VM would find nothing there`,
          });
        }
      }
    }
    if (spec.mappings.length > 0) {
      try {
        validatePathMappings(spec.mappings, 'mappings');
      } catch (error) {
        ctx.addIssue({ code: 'custom', path: ['mappings'], message: (error as Error).message.replace(/^mappings\S*\s*/, '') });
      }
    }
  });

export type JobSpecInput = z.input<typeof JobSpecSchema>;
export type JobSpec = z.output<typeof JobSpecSchema>;

/** Validates a job spec; the error names every bad field, and nothing starts. */
export function parseJobSpec(input: unknown): JobSpec {
  const result = JobSpecSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(job spec)'}: ${issue.message}`);
  throw new PlexliftError('BAD_ARGUMENT', `job spec: ${problems.join('; ')}`, { details: { problems } });
}
