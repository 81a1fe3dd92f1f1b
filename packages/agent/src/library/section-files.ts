import { readDatabase, readLibraryStats } from '@plexlift/shared/plex-db';

/** The files (media parts) a section holds now: the unit of scan and analysis throughput. */
export function readSectionFiles(mainDb: string, sectionKey: string): number {
  return readDatabase(mainDb, readLibraryStats).sections.find((s) => s.id === Number(sectionKey))?.parts ?? 0;
}

/** Work per hour, for the report's work-per-euro figures. */
export function perHour(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? Math.round((count * 3_600_000) / elapsedMs) : 0;
}
