import type { Command } from 'commander';
import {
  COUNTED_KINDS,
  closeDatabase,
  findPlexDatabases,
  openDatabaseReadOnly,
  readLibraryStats,
  readSonicProgress,
  type LibraryStats,
  type SonicProgress,
} from '@plexlift/shared/plex-db';
import { createCommandAction } from '../command-action.js';
import { formatTable } from '../output.js';

export function registerDbStats(db: Command): void {
  db.command('stats')
    .description('count the library per section: items by kind, items marked deleted, media parts, Sonic progress')
    .argument('<DB>', 'path of com.plexapp.plugins.library.db (safe while Plex runs)')
    .option('--json', 'print JSON')
    .action(
      createCommandAction<{ json?: boolean }, [path: string]>(({ args: [path], output }) => {
        const { main } = findPlexDatabases(path);
        const db = openDatabaseReadOnly(main);
        let stats: LibraryStats;
        let sonic: SonicProgress[];
        try {
          stats = readLibraryStats(db);
          sonic = readSonicProgress(db);
        } finally {
          closeDatabase(db);
        }
        if (output.json) output.printJson({ sections: stats.sections, sonic });
        else output.result(formatStats(stats, sonic));
      }),
    );
}

const HEADINGS: Record<(typeof COUNTED_KINDS)[number], string> = {
  movie: 'movies',
  show: 'shows',
  season: 'seasons',
  episode: 'episodes',
  artist: 'artists',
  album: 'albums',
  track: 'tracks',
  photo: 'photos',
};

export function formatStats(stats: LibraryStats, sonic: SonicProgress[]): string {
  if (stats.sections.length === 0) return 'No library sections.';
  const used = COUNTED_KINDS.filter((kind) => stats.sections.some((s) => s.counts[kind] > 0));
  const rows: (string | number)[][] = [['section', 'id', 'type', ...used.map((k) => HEADINGS[k]), 'deleted', 'parts']];
  for (const s of stats.sections) {
    rows.push([s.title, s.id, s.type, ...used.map((k) => number(s.counts[k])), number(s.deleted), number(s.parts)]);
  }
  const lines = [formatTable(rows)];
  for (const progress of sonic) {
    const title = stats.sections.find((s) => s.id === progress.sectionId)?.title ?? `section ${progress.sectionId}`;
    const percent = progress.total > 0 ? ((100 * progress.analyzed) / progress.total).toFixed(1) : '0.0';
    lines.push(`Sonic analysis, ${title}: ${number(progress.analyzed)} of ${number(progress.total)} tracks (${percent} %)`);
  }
  return lines.join('\n');
}

function number(value: number): string {
  return value.toLocaleString('en-US');
}
