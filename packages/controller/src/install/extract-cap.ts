import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatBytes, freeBytes } from '@plexlift/shared/plex-db';

/**
 * A decompression bomb (132 KB that unpack to 4 GiB of zeros) once filled the disk while home
 * Plex ran: what an archive unpacks to is capped at this ratio to its size (real libraries, DB
 * free pages included, stay far below), with a floor for small ones…
 */
export const MAX_EXPANSION = 1000;
const MIN_EXTRACT_CAP_BYTES = 64 * 2 ** 20;
/** …and at the free space of the staging disk minus this. */
const STAGING_RESERVE_BYTES = 2 ** 30;

/** How many bytes an archive of `archiveBytes` may unpack to in `stagingDir`, and why that many. */
export function extractCap(stagingDir: string, archiveBytes: number | undefined): { bytes: number; describe: string } {
  mkdirSync(dirname(stagingDir), { recursive: true });
  const space = Math.max(0, freeBytes(dirname(stagingDir)) - STAGING_RESERVE_BYTES);
  const ratio = archiveBytes === undefined ? Infinity : Math.max(MIN_EXTRACT_CAP_BYTES, archiveBytes * MAX_EXPANSION);
  return ratio < space
    ? { bytes: ratio, describe: `${formatBytes(ratio)} (${MAX_EXPANSION} times the archive's ${formatBytes(archiveBytes ?? 0)})` }
    : { bytes: space, describe: `${formatBytes(space)} (the free space of the staging disk minus ${formatBytes(STAGING_RESERVE_BYTES)} kept free)` };
}
