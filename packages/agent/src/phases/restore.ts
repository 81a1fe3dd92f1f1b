import { extractArchive } from '@plexlift/shared/archive';
import { downloadArchive } from '../download.js';
import type { JobState } from '../job-state.js';
import type { Phase } from './phase.js';

/** Delta jobs start from home's DB: the snapshot streams down, is checked and unpacked. */
export const restore: Phase<JobState> = {
  name: 'restore',
  applies: (job) => job.mode === 'delta',
  run: async ({ state, signal, progress }) => {
    const transfers = state.transfers;
    if (!transfers?.restoreId) throw new Error('restore needs a snapshot from home');
    const result = await extractArchive(
      downloadArchive({
        baseUrl: transfers.baseUrl,
        transferId: transfers.restoreId,
        token: transfers.token,
        signal,
        onProgress: (p) => progress({ percent: (100 * p.chunks) / p.of, message: `${p.chunks} of ${p.of} chunks` }),
      }),
      state.pmsDir,
      { signal },
    );
    return { files: result.files, bytes: result.bytes };
  },
};
