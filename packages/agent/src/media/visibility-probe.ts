import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PlexliftError } from '@plexlift/shared';
import type { SqliteDatabase } from '@plexlift/shared/plex-db';
import { describeReadError, readHead, withTimeout } from './read-head.js';

export interface VisibilityReport {
  sampled: number;
  visible: number;
  /** Files the DB knows that the mount does not show (ENOENT), or cannot read. */
  missing: { file: string; error: string }[];
}

export interface VisibilityOptions {
  /** Files checked per section, spread evenly over the library. @default 50 */
  sampleSize?: number;
  /** Bytes read from each (the head, as a scanner reads). @default 4096 */
  readBytes?: number;
  /** A read that takes longer counts as missing (a hung mount). @default 15_000 */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Paths of a section's media files the DB knows (parts not marked deleted). */
export function knownFiles(db: SqliteDatabase, sectionId: number): string[] {
  return db
    .prepare(
      `SELECT mp.file FROM media_parts mp JOIN media_items mi ON mi.id = mp.media_item_id
        WHERE mi.library_section_id = ? AND mp.deleted_at IS NULL AND mp.file <> '' ORDER BY mp.file`,
    )
    .pluck()
    .all(sectionId) as string[];
}

/**
 * Files found under a library location on the mount, spread over its folders and its sort order:
 * what a `scan` job probes, having no DB yet. The walk goes level by level; a level with more
 * folders than half the listings left is thinned evenly, first and last folder included, so the
 * films that sort last are probed as surely as the first (issue 18: 23 unreadable films at the
 * end of the order were never probed). A cloud listing is not free: at most `maxFolders` listings.
 * A location that does not list is an error naming it. Returned sorted by path.
 */
export async function filesUnder(location: string, options: { maxFolders?: number; timeoutMs?: number } = {}): Promise<string[]> {
  const files: string[] = [];
  let budget = options.maxFolders ?? 500;
  let level = [location];
  while (level.length > 0 && budget > 0) {
    const listed = level.length <= budget / 2 || budget === 1 ? level.slice(0, budget) : evenlySpaced(level, Math.max(1, Math.floor(budget / 2)));
    budget -= listed.length;
    const next: string[] = [];
    for (const folder of listed) {
      let entries: Dirent[];
      try {
        entries = await withTimeout(readdir(folder, { withFileTypes: true }), options.timeoutMs ?? 15_000);
      } catch (error) {
        if (folder !== location) continue;
        throw new PlexliftError(
          'SAFETY_STOP',
          `library location ${location} does not list on the mount (${describeReadError(error)}); a scan would find nothing, so it does not start`,
          { details: { location } },
        );
      }
      for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
        if (entry.isDirectory()) next.push(join(folder, entry.name));
        else if (entry.isFile() && !entry.name.startsWith('.')) files.push(join(folder, entry.name));
      }
    }
    level = next;
  }
  return files.sort();
}

/**
 * Before a scan, checks that files the DB knows are visible and readable on the mount. A
 * degraded rclone mount still lists folders but not files; a scan then marks everything deleted
 * (plex-api.md, Traps: `autoEmptyTrash` defaults to true).
 */
export async function probeVisibility(files: string[], options: VisibilityOptions = {}): Promise<VisibilityReport> {
  const sample = evenlySpaced(files, options.sampleSize ?? 50);
  const report: VisibilityReport = { sampled: sample.length, visible: 0, missing: [] };
  const bytes = options.readBytes ?? 4096;
  await Promise.all(
    sample.map(async (file) => {
      try {
        await withTimeout(readHead(file, bytes), options.timeoutMs ?? 15_000);
        report.visible += 1;
      } catch (error) {
        report.missing.push({ file, error: describeReadError(error) });
      }
    }),
  );
  options.signal?.throwIfAborted();
  report.missing.sort((a, b) => (a.file < b.file ? -1 : 1));
  return report;
}

/** Refuses the scan when more than `maxMissingPercent` of the sample is missing. */
export function assertVisible(report: VisibilityReport, options: { section: string; maxMissingPercent: number }): void {
  if (report.sampled === 0 || (report.missing.length * 100) / report.sampled <= options.maxMissingPercent) return;
  const examples = report.missing
    .slice(0, 3)
    .map((m) => `${m.file} (${m.error})`)
    .join(', ');
  throw new PlexliftError(
    'SAFETY_STOP',
    `section "${options.section}": ${report.missing.length} of ${report.sampled} files the library knows are not visible or readable on the mount (e.g. ${examples}); ` +
      'a scan now would mark them deleted, so it does not start. Check the mount and the path mappings',
    { details: { ...report, missing: report.missing.slice(0, 20) } },
  );
}

/** `count` items spread from the first to the last (both included). */
function evenlySpaced<T>(items: T[], count: number): T[] {
  if (items.length <= count) return items;
  if (count === 1) return [items[0]!];
  const step = (items.length - 1) / (count - 1);
  return Array.from({ length: count }, (_, i) => items[Math.round(i * step)]!);
}
