import { z } from 'zod';
import { COUNTED_KINDS, type KindCounts, type LibraryStats, type SectionStats } from '../plex-db/library-stats.js';
import { SECTION_TYPE } from '../plex-db/plex-codes.js';
import type { SectionDelta, StatsDiff } from '../plex-db/stats-diff.js';
import { PhaseNameSchema } from './phases.js';

// The stats types are written once, as interfaces beside the code that computes them; these
// schemas check stored JSON against them (`satisfies` fails the build if the two drift apart).
/** A count (an agent's report is checked against these too: no negative, fractional or absurd figure). */
const count = () => z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const KindCountsSchema = z.object(
  Object.fromEntries(COUNTED_KINDS.map((kind) => [kind, count()])) as Record<keyof KindCounts, z.ZodNumber>,
) satisfies z.ZodType<KindCounts>;

const SectionStatsSchema = z.object({
  id: z.number(),
  title: z.string().max(1000),
  type: z.enum([...(Object.keys(SECTION_TYPE) as (keyof typeof SECTION_TYPE)[]), 'unknown']),
  counts: KindCountsSchema,
  deleted: count(),
  parts: count(),
}) satisfies z.ZodType<SectionStats>;

export const LibraryStatsSchema = z.object({ sections: z.array(SectionStatsSchema) }) satisfies z.ZodType<LibraryStats>;

const SectionDeltaSchema = z.object({
  id: z.number(),
  title: z.string(),
  status: z.enum(['changed', 'unchanged', 'added', 'removed']),
  before: SectionStatsSchema.optional(),
  after: SectionStatsSchema.optional(),
  counts: KindCountsSchema,
  deleted: z.number(),
  parts: z.number(),
}) satisfies z.ZodType<SectionDelta>;

const StatsDiffSchema = z.object({
  sections: z.array(SectionDeltaSchema),
  total: z.object({ counts: KindCountsSchema, deleted: z.number(), parts: z.number() }),
}) satisfies z.ZodType<StatsDiff>;

/**
 * A job's report (DESIGN.md, "The report"): what it changed per library, Sonic coverage, time per
 * phase, bytes moved, time and cost. A job that ended before its install has no `libraries`.
 * `before` is the home library as the job found it, kept from the start for the comparison.
 */
/** A job's expected duration (seconds, per phase and in all), cost, and what it rests on. */
export const JobEstimateSchema = z.object({
  seconds: z.number(),
  cost: z.number().optional(),
  phases: z.partialRecord(PhaseNameSchema, z.number()),
  /** `2 past delta runs of this library`, or the documented defaults. */
  basis: z.string(),
});
export type JobEstimate = z.infer<typeof JobEstimateSchema>;

export const JobReportSchema = z.object({
  before: LibraryStatsSchema.optional(),
  libraries: StatsDiffSchema.optional(),
  /** `libraries` compares home with the library as the VM shipped it: not installed yet (`--no-install`). */
  librariesAsShipped: z.boolean().optional(),
  sonic: z.object({ analyzed: z.number(), total: z.number(), percent: z.number() }).optional(),
  /** Sonic per music library: as the job found it (stored at its start) and after its install. */
  sonicSections: z
    .array(
      z.object({
        id: z.number(),
        title: z.string(),
        before: z.object({ analyzed: z.number(), total: z.number() }),
        after: z.object({ analyzed: z.number(), total: z.number() }).optional(),
      }),
    )
    .optional(),
  /**
   * A job that landed (its budget's end, or `plexlift land`): incomplete, its work so far brought
   * home. The reserve the controller kept for plex-stop, export, upload and teardown against what
   * they took (the landing order to the machine's deletion), so the next estimate learns.
   */
  landed: z
    .object({
      reason: z.string(),
      requestedAt: z.number(),
      reserveSeconds: z.number().optional(),
      actualSeconds: z.number().optional(),
      /** The landing ran past the hard cap: the machine was deleted at the cap, nothing installed. */
      overran: z.boolean().optional(),
      /** The analyses the spec asked for that did not finish (stopped or skipped by the landing). */
      unfinished: z.array(PhaseNameSchema),
    })
    .optional(),
  /** What the job was expected to take and cost when it started (`plexlift run` said it), against which the report sets what it took. */
  estimate: JobEstimateSchema.optional(),
  /** What the run achieved per hour and per euro (Sonic tracks), for the estimates of `plexlift progress`. */
  rates: z.object({ tracksPerHour: z.number().optional(), tracksPerEuro: z.number().optional() }).optional(),
  phases: z.partialRecord(PhaseNameSchema, z.object({ state: z.string(), seconds: z.number().optional() })).optional(),
  /**
   * What people did at home during the job (issue 18): per user-state table the rows carried onto
   * the new library, removed from it, carried but waiting for their item, and not carried with
   * why; and the other tables home changed, not carried. Absent when nothing changed at home.
   */
  homeChanges: z
    .object({
      tables: z.array(
        z.object({
          table: z.string(),
          carried: z.number(),
          removed: z.number(),
          waiting: z.number(),
          notCarried: z.array(z.object({ reason: z.string(), rows: z.number(), sample: z.array(z.string()) })),
        }),
      ),
      notMerged: z.array(z.object({ table: z.string(), rows: z.object({ base: z.number(), home: z.number() }) })),
      /** Playlists made at home during the job, made again on the new library by the home Plex; and those that were not. */
      playlists: z
        .object({
          carried: z.array(z.object({ title: z.string(), items: z.number(), missing: z.number() })),
          notCarried: z.array(z.object({ title: z.string(), reason: z.string() })),
        })
        .optional(),
    })
    .optional(),
  /**
   * Items home had that the installed library lacks, per section, within the deletion cap (or
   * allowed): files that did not read on the VM, or items home scanned during the job.
   */
  homeDeletions: z.array(z.object({ section: z.string(), missing: z.number(), total: z.number(), limit: z.number(), sample: z.array(z.string()) })).optional(),
  /** Bytes per direction of the data plane (`restore`, `export`). */
  bytesMoved: z.record(z.string(), z.number()).optional(),
  hours: z.number().optional(),
  cost: z.number().optional(),
});
export type JobReport = z.output<typeof JobReportSchema>;
