import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { extractArchive, PLEX_LIBRARY_ENTRIES } from '@plexlift/shared/archive';
import { downloadArchive } from '../home/download-archive.js';
import { definePhase } from './phase.js';

/**
 * Delta jobs start from home's library: the snapshot (the DBs, and `Metadata/` and `Media/` when
 * home is configured to send them) streams down, each chunk checked, and is unpacked; anything
 * else in it — a `Preferences.xml` above all — is refused.
 */
export const restore = definePhase({
  name: 'restore',
  needs: ['transfers'],
  applies: (job) => job.mode === 'delta',
  run: async ({ job, state, signal, progress }) => {
    const { transfers } = state;
    // Home names one for every delta job.
    if (!transfers.restoreId) throw new Error('restore needs a snapshot from home');
    const started = performance.now();
    const result = await extractArchive(
      downloadArchive({
        baseUrl: transfers.baseUrl,
        transferId: transfers.restoreId,
        token: transfers.token,
        fetch: state.connection.fetch,
        signal,
        bwlimitBytesPerSecond: job.bwlimitBytesPerSecond,
        onProgress: (p) => {
          const perChunkMs = (performance.now() - started) / Math.max(p.chunks, 1);
          progress({
            percent: (100 * p.chunks) / p.of,
            rate: { value: Math.round((60_000 / perChunkMs) * 10) / 10, unit: 'chunks/min' },
            etaMs: Math.round(perChunkMs * (p.of - p.chunks)),
            message: `${p.chunks} of ${p.of} chunks`,
          });
        },
      }),
      state.pmsDir,
      { signal, allow: PLEX_LIBRARY_ENTRIES },
    );
    const folders = ['Metadata', 'Media'].filter((folder) => existsSync(join(state.pmsDir, folder)));
    return { files: result.files, bytes: result.bytes, folders };
  },
});
