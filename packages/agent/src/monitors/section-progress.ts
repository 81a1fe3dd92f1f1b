import { readDatabase, type SqliteDatabase } from '@plexlift/shared/plex-db';
import type { PlexClient, PlexSection } from '@plexlift/shared/plex-api';
import type { PhaseProgress } from '../phases/phase.js';
import { WorkRate } from './work-rate.js';

/** How often a section's work under way is read: often enough that the bar moves, cheap enough to not matter. */
const READ_EVERY_MS = 5_000;

/** What Plex work is followed: its activities, how the DB counts its items, how it is said. */
export interface SectionWork {
  /** Plex's activity types for this work (their `progress` is the percent). */
  activityTypes: readonly string[];
  /** The section's items this work has done so far, from the DB. */
  countItems: (db: SqliteDatabase, sectionId: number) => number;
  /** The section's items this work goes through (its percent is of these). */
  countTotal: (db: SqliteDatabase, sectionId: number) => number;
  /** `scanning`, `analysing`. */
  verb: string;
  /** `files`, `analysed`. */
  noun: string;
}

/** The section's files (its media parts not deleted). */
const sectionFiles = (db: SqliteDatabase, id: number) =>
  db
    .prepare(`SELECT count(*) FROM media_parts mp JOIN media_items mi ON mi.id = mp.media_item_id WHERE mi.library_section_id = ? AND mp.deleted_at IS NULL`)
    .pluck()
    .get(id) as number;

/** A scan: Plex's section update; its items are the section's files. */
export const SCAN_WORK: SectionWork = {
  activityTypes: ['library.update.section', 'library.refresh.items'],
  countItems: sectionFiles,
  countTotal: sectionFiles,
  verb: 'scanning',
  noun: 'files',
};

/** A media analysis: its items are the section's media Plex has analysed. */
export const ANALYSIS_WORK: SectionWork = {
  activityTypes: ['media.analyze'],
  countItems: (db, id) =>
    db.prepare(`SELECT count(*) FROM media_items WHERE library_section_id = ? AND media_analysis_version > 0 AND deleted_at IS NULL`).pluck().get(id) as number,
  countTotal: (db, id) => db.prepare(`SELECT count(*) FROM media_items WHERE library_section_id = ? AND deleted_at IS NULL`).pluck().get(id) as number,
  verb: 'analysing',
  noun: 'analysed',
};

/**
 * Reports a section's work as it goes, not only when it ends: Plex's own activity progress for
 * the percent, that percent of the section's items (from the DB) for the rate (items/h, over a
 * sliding window), and an ETA for the whole phase (this section's, plus the sections left at the
 * pace so far).
 */
export function watchSectionProgress(input: {
  work: SectionWork;
  plex: PlexClient;
  mainDb: string;
  section: PlexSection;
  /** Where this section stands among the phase's: index and count. */
  index: number;
  count: number;
  /** How long the sections before took, for the ETA of those left. */
  earlierMs: number;
  progress: (progress: PhaseProgress) => void;
  signal: AbortSignal;
}): () => void {
  const { plex, section, index, count, work } = input;
  const started = performance.now();
  const items = new WorkRate();
  const percents = new WorkRate();
  const totalAtStart = readDatabase(input.mainDb, (db) => work.countTotal(db, Number(section.key)));
  let stopped = false;
  const read = async () => {
    const activities = await plex.activities(input.signal);
    const own = activities.filter((a) => work.activityTypes.includes(a.type) && a.Context?.librarySectionID === section.key && a.progress >= 0);
    const percent = own.length > 0 ? Math.max(...own.map((a) => a.progress)) : undefined;
    const done = readDatabase(input.mainDb, (db) => work.countItems(db, Number(section.key)));
    if (stopped) return;
    const now = performance.now();
    const said = `${work.verb} ${section.title}: ${done.toLocaleString('en-US')} ${work.noun}`;
    if (percent === undefined) return input.progress({ percent: (index * 100) / count, message: said });
    // Plex goes through every item of the section, known or new: the items it went through are its percent of them.
    items.add(now, (percent / 100) * Math.max(totalAtStart, work === SCAN_WORK ? done : 0));
    percents.add(now, percent);
    const sectionEta = percents.etaMs(100);
    const perSection = index > 0 ? input.earlierMs / index : sectionEta === undefined ? undefined : now - started + sectionEta;
    const etaMs = sectionEta === undefined || perSection === undefined ? undefined : Math.round(sectionEta + (count - index - 1) * perSection);
    const rate = Math.round(items.perHour());
    input.progress({
      percent: ((index + percent / 100) * 100) / count,
      ...(rate > 0 ? { rate: { value: rate, unit: 'items/h' } } : {}),
      ...(etaMs === undefined ? {} : { etaMs }),
      message: `${said} (${Math.floor(percent)} %)`,
    });
  };
  const timer = setInterval(() => void read().catch(() => undefined), READ_EVERY_MS);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
