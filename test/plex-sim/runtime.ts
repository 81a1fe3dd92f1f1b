import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Activities } from './activities.js';
import type { DataDirPaths } from './data-dir.js';
import type { LibraryDb } from './library-db.js';
import type { Notifier } from './notifier.js';
import type { ResolvedPlexSimOptions } from './options.js';
import type { PlexLog } from './plex-log.js';
import type { ServerPreferences } from './server-preferences.js';

/** What every part of the double shares while it runs. */
export interface SimRuntime {
  options: ResolvedPlexSimOptions;
  paths: DataDirPaths;
  log: PlexLog;
  library: LibraryDb;
  notifier: Notifier;
  activities: Activities;
  preferences: ServerPreferences;
  /** The server's clock (real time plus the configured offset). */
  now(): Date;
  /** Epoch seconds, as PMS stores dates. */
  epoch(): number;
  /** Waits a PMS duration, shortened by the speed knob. */
  wait(ms: number, signal?: AbortSignal): Promise<void>;
  /** Burns real CPU for one item of work, so a CPU monitor sees the server busy. */
  burn(items?: number): void;
  /** Counts scanned items for the crash fault. */
  itemScanned(): void;
}

export function createClock(options: ResolvedPlexSimOptions) {
  const now = () => new Date(Date.now() + options.clockOffsetMs);
  return {
    now,
    epoch: () => Math.floor(now().getTime() / 1000),
    wait: async (ms: number, signal?: AbortSignal) => {
      const scaled = ms / options.speed;
      if (scaled >= 1) await sleep(scaled, undefined, signal ? { signal } : {});
      else {
        // Keep the event loop turning even at high speed: HTTP requests are served between items.
        await new Promise((resolve) => setImmediate(resolve));
        signal?.throwIfAborted();
      }
    },
    burn: (items = 1) => {
      const until = performance.now() + (options.cpuMsPerItem * items) / Math.max(1, options.speed / 10);
      let digest = Buffer.alloc(32);
      while (performance.now() < until) digest = createHash('sha256').update(digest).digest();
    },
  };
}
