import type { JobState } from '../job-state.js';
import { createPlexArchive } from '../plex-archive.js';
import { uploadArchive } from '../upload.js';
import type { Phase } from './phase.js';

/** Streams the archive home as it is made: tar | zstd, cut into checksummed chunks. */
export const upload: Phase<JobState> = {
  name: 'upload',
  run: async ({ state, signal, progress }) => {
    const transfers = state.transfers;
    if (!transfers) throw new Error('upload needs the data plane from connect');
    const controller = new AbortController();
    const archive = createPlexArchive(state.pmsDir, { signal: AbortSignal.any([signal, controller.signal]) });
    try {
      const [result] = await Promise.all([
        uploadArchive(archive.stream, {
          baseUrl: transfers.baseUrl,
          transferId: transfers.exportId,
          token: transfers.token,
          signal,
          onProgress: (p) => progress({ message: `${p.chunks} chunks, ${(p.bytes / 1024 / 1024).toFixed(1)} MiB sent` }),
        }),
        archive.finished,
      ]);
      return { chunks: result.chunks, bytes: result.bytes, sha256: result.sha256, resumedChunks: result.skipped };
    } catch (error) {
      controller.abort();
      throw error;
    }
  },
};
