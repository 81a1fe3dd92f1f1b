import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isPlexliftError } from '@plexlift/shared';
import { copyHeldArchive, holdArchive, type HeldArchive } from '../held-archive.js';
import { HOME_PATIENCE_MS } from '../home-fetch.js';
import { formatDuration } from '../idle-waiter.js';
import type { JobState } from '../job-state.js';
import { createPlexArchive } from '@plexlift/shared/archive';
import { uploadArchive, type UploadResult } from '../upload.js';
import type { Phase, PhaseContext } from './phase.js';

/**
 * Streams the archive home as it is made: tar | zstd, cut into checksummed chunks. When home
 * has been out of reach for longer than the job allows, the agent keeps the archive on the VM
 * (and in the user's bucket when one is configured), then sends it from there once home is
 * back; only the controller deletes the VM.
 */
export const upload: Phase<JobState> = {
  name: 'upload',
  run: async (context) => {
    const { job, state } = context;
    const holdAfterMs = state.holdAfterMs ?? job.offline.holdAfterMinutes * 60_000;
    for (let attempt = 0; (state.connection?.offlineForMs() ?? 0) < holdAfterMs; attempt++) {
      try {
        // Waiting for home never outlasts the time before the archive is kept here instead.
        const patienceMs = Math.min(HOME_PATIENCE_MS, Math.max(holdAfterMs - (state.connection?.offlineForMs() ?? 0), 0));
        return { ...(await streamHome(context, patienceMs)), held: false };
      } catch (error) {
        // A refusal (token, digest) is not a reachability problem: holding would not help.
        if (!isPlexliftError(error, 'CONTROLLER_UNREACHABLE') || !state.connection) throw error;
        context.report({ type: 'log', level: 'warn', message: `upload interrupted, trying again: ${error.message}` });
        await sleep(Math.min(500 * 2 ** attempt, 30_000, Math.max(holdAfterMs - state.connection.offlineForMs(), 0)), undefined, { signal: context.signal });
      }
    }
    return holdThenSend(context, holdAfterMs);
  },
};

async function streamHome({ state, signal, progress }: PhaseContext<JobState>, patienceMs: number): Promise<UploadResult> {
  const transfers = state.transfers;
  if (!transfers) throw new Error('upload needs the data plane from connect');
  const controller = new AbortController();
  const archive = createPlexArchive(state.pmsDir, { signal: AbortSignal.any([signal, controller.signal]) });
  const started = performance.now();
  try {
    return await uploadArchive(archive.stream, {
      baseUrl: transfers.baseUrl,
      transferId: transfers.exportId,
      token: transfers.token,
      fetch: state.connection?.fetch,
      signal,
      // The archive's size is known only at its end: a rate, no percent.
      onProgress: (p) => progress({ rate: mebibytesPerSecond(p.bytes, started), message: `${p.chunks} chunks, ${(p.bytes / 1024 / 1024).toFixed(1)} MiB sent, zstd level ${archive.levels.at(-1)}` }),
      beforeComplete: () => archive.finished,
      patienceMs,
    });
  } catch (error) {
    controller.abort();
    throw error;
  }
}

async function holdThenSend({ job, state, signal, progress, report }: PhaseContext<JobState>, holdAfterMs: number): Promise<Record<string, unknown>> {
  const transfers = state.transfers;
  if (!transfers) throw new Error('upload needs the data plane from connect');
  progress({ message: 'home is out of reach: keeping the archive on the VM' });
  const held: HeldArchive = await holdArchive(state.pmsDir, join(state.workDir, 'held'), job.jobId, { signal });
  report({ type: 'log', level: 'warn', message: `home out of reach for more than ${formatDuration(holdAfterMs)}: the archive is kept on the VM (${held.bytes} bytes, sha256 ${held.sha256})` });
  let copiedTo: string | undefined;
  if (job.offline.archiveRemote) {
    const configPath = join(state.workDir, 'rclone.conf');
    copiedTo = await copyHeldArchive(held, job.offline.archiveRemote, existsSync(configPath) ? configPath : undefined, signal);
    report({ type: 'log', level: 'info', message: `archive copied to ${copiedTo}` });
  }
  for (let attempt = 0; ; attempt++) {
    progress({ message: 'waiting for home to come back' });
    await state.connection?.online(signal);
    const started = performance.now();
    try {
      const result = await uploadArchive(createReadStream(held.path), {
        baseUrl: transfers.baseUrl,
        transferId: transfers.exportId,
        token: transfers.token,
        fetch: state.connection?.fetch,
        signal,
        onProgress: (p) => {
          const rate = mebibytesPerSecond(p.bytes, started);
          progress({
            percent: Math.min(100, (100 * p.bytes) / Math.max(held.bytes, 1)),
            rate,
            ...(rate.value > 0 ? { etaMs: Math.round(((held.bytes - p.bytes) / (rate.value * 1024 * 1024)) * 1000) } : {}),
            message: `${p.chunks} chunks sent from the held archive`,
          });
        },
      });
      return { ...result, held: true, heldPath: held.path, ...(copiedTo ? { copiedTo } : {}) };
    } catch (error) {
      if (!isPlexliftError(error, 'CONTROLLER_UNREACHABLE')) throw error;
      await sleep(Math.min(1_000 * 2 ** attempt, 60_000), undefined, { signal });
    }
  }
}

function mebibytesPerSecond(bytes: number, since: number): { value: number; unit: string } {
  const seconds = (performance.now() - since) / 1000;
  return { value: seconds > 0 ? Math.round((bytes / 1024 / 1024 / seconds) * 10) / 10 : 0, unit: 'MiB/s' };
}
