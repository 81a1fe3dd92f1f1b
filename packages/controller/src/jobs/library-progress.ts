import { isFinal, PlexliftError, type Config } from '@plexlift/shared';
import { closeDatabase, mainDatabasePath, openDatabaseReadOnly, readSonicProgress, sectionTypeName, type SqliteDatabase } from '@plexlift/shared/plex-db';
import type { JobRecord, JobStore } from '../store/job-store.js';
import type { LibraryProgress } from './job-control.js';
import { median } from './medians.js';

/** How many of the newest runs that measured a Sonic rate the estimate is based on. */
const RATE_RUNS = 5;
/** Every run of the library is listed (finished ones are pruned after `server.keepJobsDays`). */
const HISTORY_LIMIT = 10_000;
const HOUR_MS = 3_600_000;

type Run = LibraryProgress['runs'][number];
type Section = LibraryProgress['sections'][number];

/**
 * `plexlift progress`: what is left of the home library's work across runs. The home DB is read
 * now (read-only, safe while home Plex runs; a few grouped queries, never a loop over items) and
 * the runs are the job store's history of this library.
 *
 * Counted besides Sonic: **media analysis** only, a media item with a file counting as done when
 * `media_items.media_analysis_version` is set (indexed, written by every PMS, plex-db.md §4).
 * Loudness and deep analysis are not counted: their DB keys (`ld:*` in `media_streams.extra_data`,
 * `deepAnalysisVersion` in `media_parts.extra_data`) are unconfirmed (plex-db.md §4, §9), and a
 * wrong count would keep `complete` false for ever; chapter thumbnails are not worth a query.
 *
 * `complete` covers what the runs would do, as the newest run was asked: Sonic unless it skipped
 * Sonic (or all analysis), media analysis unless it skipped analysis; with no run yet, both.
 */
export function readLibraryProgress(input: { config: Pick<Config, 'home'>; jobs: JobStore; now?: number }): LibraryProgress {
  const home = input.config.home;
  if (!home) throw new PlexliftError('CONFIG_INVALID', 'home: missing; set home.plexDataDir (plexlift init writes it) to track its progress');
  const now = input.now ?? Date.now();
  const library = home.plexDataDir;
  const sections = readSections(library);
  const history = input.jobs.list({ limit: HISTORY_LIMIT }).filter((job) => job.library === library);
  const runs = history.map((job) => runOf(job, now));

  const newest = history[0];
  const doesSonic = newest ? !newest.spec.skipAnalysis && !newest.spec.skipSonic && newest.spec.analyses.sonic !== false : true;
  const doesAnalysis = newest ? !newest.spec.skipAnalysis : true;
  const tracks = sections.reduce((sum, s) => sum + (s.sonic ? s.sonic.total - s.sonic.analyzed : 0), 0);
  const analyses = sections.reduce((sum, s) => sum + s.analyses.reduce((left, a) => left + (a.total - a.done), 0), 0);
  const complete = (!doesSonic || tracks === 0) && (!doesAnalysis || analyses === 0);
  const estimate = doesSonic && tracks > 0 ? estimateOf(tracks, history, runs) : undefined;
  return { library, sections, runs, remaining: { tracks, analyses }, ...(estimate ? { estimate } : {}), complete };
}

/** The home library's sections with their Sonic and media analysis counts: three grouped queries. */
function readSections(plexDataDir: string): Section[] {
  const db = openDatabaseReadOnly(mainDatabasePath(plexDataDir), 'home.plexDataDir');
  try {
    const rows = db.prepare('SELECT id, name, section_type AS type FROM library_sections ORDER BY id').all() as {
      id: number;
      name: string | null;
      type: number;
    }[];
    const sonic = new Map(readSonicProgress(db).map((s) => [s.sectionId, { analyzed: s.analyzed, total: s.total }]));
    const media = readMediaAnalysis(db);
    return rows.map((row) => {
      const analysed = media.get(row.id);
      return {
        id: row.id,
        title: row.name ?? '',
        type: sectionTypeName(row.type),
        ...(sonic.has(row.id) ? { sonic: sonic.get(row.id)! } : {}),
        analyses: analysed && analysed.total > 0 ? [{ name: 'media analysis', ...analysed }] : [],
      };
    });
  } finally {
    closeDatabase(db);
  }
}

/**
 * Media items not marked deleted that have a file (online extras have none and are never
 * analysed), per section; done when Plex recorded an analysis version (0 until analysed).
 */
function readMediaAnalysis(db: SqliteDatabase): Map<number, { done: number; total: number }> {
  const rows = db
    .prepare(
      `SELECT mi.library_section_id AS sectionId, count(*) AS total, coalesce(sum(coalesce(mi.media_analysis_version, 0) > 0), 0) AS done
         FROM media_items mi
        WHERE mi.deleted_at IS NULL
          AND EXISTS (SELECT 1 FROM media_parts mp WHERE mp.media_item_id = mi.id AND mp.deleted_at IS NULL AND mp.file <> '')
        GROUP BY mi.library_section_id`,
    )
    .all() as { sectionId: number | null; total: number; done: number }[];
  return new Map(rows.filter((r) => r.sectionId !== null).map((r) => [r.sectionId!, { done: r.done, total: r.total }]));
}

/** One run as the history shows it: a live one's hours and cost are so far. */
function runOf(job: JobRecord, now: number): Run {
  const report = job.report;
  const price = priceOf(job);
  const hours = report?.hours ?? ((job.finishedAt ?? now) - job.createdAt) / HOUR_MS;
  const cost = report?.cost ?? (price === undefined ? undefined : hours * price);
  const tracksDone = tracksDoneBy(job);
  return {
    jobId: job.id,
    startedAt: job.createdAt,
    state: job.state,
    outcome: outcomeOf(job),
    hours: round(hours, 2),
    ...(cost === undefined ? {} : { cost: round(cost, 2) }),
    ...(tracksDone === undefined ? {} : { tracksDone }),
    ...(job.options.schedule ? { schedule: job.options.schedule } : {}),
  };
}

/** A landed run brought its work home incomplete; one that overran its cap installed nothing and ends failed or aborted. */
function outcomeOf(job: JobRecord): Run['outcome'] {
  if (!isFinal(job.state)) return 'under way';
  if (job.state === 'done') return job.report?.landed ? 'landed' : 'complete';
  return job.state === 'failed' ? 'failed' : 'aborted';
}

/** Sonic tracks a run added: after its install − at its start, over the music sections it has both for. */
function tracksDoneBy(job: JobRecord): number | undefined {
  const sections = job.report?.sonicSections?.filter((s) => s.after);
  if (!sections || sections.length === 0) return undefined;
  return sections.reduce((sum, s) => sum + s.after!.analyzed - s.before.analyzed, 0);
}

function priceOf(job: JobRecord): number | undefined {
  const price = job.resource?.hourlyPrice;
  return typeof price === 'number' && price >= 0 ? price : undefined;
}

/**
 * The hours, runs and euros left at the Sonic rate of the newest runs that measured one (they
 * ran Sonic and installed): Σ tracks over Σ hours, so a short run weighs less. A run is as long
 * as the median of those runs: their schedule window (its end − the run's start) for scheduled
 * runs, else the hours they took. Euros at the newest known price (€/h).
 */
function estimateOf(tracks: number, history: JobRecord[], runs: Run[]): LibraryProgress['estimate'] {
  const measured = history
    .map((job, i) => ({ job, run: runs[i]! }))
    .filter(({ job, run }) => !job.spec.skipSonic && !job.spec.skipAnalysis && run.tracksDone !== undefined && (run.hours ?? 0) > 0)
    .slice(0, RATE_RUNS);
  const done = measured.reduce((sum, m) => sum + m.run.tracksDone!, 0);
  const spent = measured.reduce((sum, m) => sum + m.run.hours!, 0);
  if (done <= 0 || spent <= 0) return undefined;
  const tracksPerHour = done / spent;
  const hours = tracks / tracksPerHour;

  const scheduled = measured.filter(({ job }) => job.options.deadline !== undefined).length;
  const lengths = measured.map(({ job, run }) =>
    job.options.deadline === undefined ? run.hours! : Math.max(0, job.options.deadline - job.createdAt) / HOUR_MS,
  );
  const runLength = median(lengths) ?? 0;
  const runsLeft = runLength > 0 ? Math.ceil(hours / runLength) : 1;

  const newestPrice = history.map(priceOf).find((p) => p !== undefined);
  const reported = runs.find((r) => r.cost !== undefined && (r.hours ?? 0) > 0);
  const price = newestPrice ?? (reported ? reported.cost! / reported.hours! : 0);
  const euros = hours * price;

  const basis =
    `${measured.length === 1 ? 'the last run' : `the last ${measured.length} runs`} with Sonic: ${Math.round(tracksPerHour).toLocaleString('en-US')} tracks/h; ` +
    `runs of ${round(runLength, 1)} h, ${LENGTH_BASIS[scheduled === 0 ? 'none' : scheduled === measured.length ? 'all' : 'some']}; ${round(price, 2)} €/h`;
  // Three decimals: a short run's estimate is minutes, not 0.0 h.
  return { hours: round(hours, 3), runs: runsLeft, euros: round(euros, 2), basis };
}

/** What the typical run length is the median of, by how many of the measured runs came from a schedule. */
const LENGTH_BASIS = {
  none: 'their median length',
  all: 'their median schedule window',
  some: 'their median length, a schedule window for a scheduled one',
} as const;

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
