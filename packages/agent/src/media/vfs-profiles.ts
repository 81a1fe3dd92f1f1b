import type { VfsProfileName } from '@plexlift/shared/protocol';

/**
 * VFS profiles by VM size (sizes as in predecessor.md §1.6). The attribute cache is minutes, not
 * a year, and the dir cache hours, so a dead remote is not hidden behind listings for days: a
 * mount that lists but does not read makes a scan mark the library missing (plex-api.md, Traps:
 * `autoEmptyTrash` defaults to true).
 */
export interface VfsProfile {
  cacheMaxSize: string;
  /** `--vfs-read-chunk-size`: the first range asked of each opened file, doubled on sequential reads up to 1 GiB. */
  readChunkSize: string;
  /** `--buffer-size`: what rclone reads ahead in memory for each open file. */
  bufferSize: string;
  /** `--vfs-read-ahead`: what it reads ahead on disk beyond that. */
  readAhead: string;
  transfers: number;
  dirCacheTime: string;
}

/**
 * Small first ranges and no read-ahead, for every profile. In `full` cache mode rclone keeps
 * downloading the range and the read-ahead after a reader closed a file, so large ones turn
 * warming a 64 KiB head into tens of MB of object-store egress per film, and keep the mount too
 * busy downloading to warm (bench/RESULTS.md, B3). A sequential reader (analysis, BIF)
 * keeps its speed: its ranges double up to 1 GiB, faster than one S3 stream delivers.
 */
const HEAD_FRIENDLY_READS = { readChunkSize: '1M', bufferSize: '1M', readAhead: '0' } as const;

export const VFS_PROFILES = {
  lite: { ...HEAD_FRIENDLY_READS, cacheMaxSize: '5G', transfers: 2, dirCacheTime: '12h' },
  standard: { ...HEAD_FRIENDLY_READS, cacheMaxSize: '10G', transfers: 4, dirCacheTime: '12h' },
  power: { ...HEAD_FRIENDLY_READS, cacheMaxSize: '20G', transfers: 16, dirCacheTime: '12h' },
  superpower: { ...HEAD_FRIENDLY_READS, cacheMaxSize: '40G', transfers: 32, dirCacheTime: '12h' },
} as const satisfies Record<VfsProfileName, VfsProfile>;
