import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isPlexliftError } from '@plexlift/shared';
import { createPlexArchive } from '@plexlift/shared/archive';
import { backoffDelay, retry } from '@plexlift/shared/retry';
import { copyHeldArchive, holdArchive, type HeldArchive } from '../home/held-archive.js';
import { HOME_PATIENCE_MS } from '../home/home-fetch.js';
import { uploadArchive, type UploadResult } from '../home/upload-archive.js';
import { formatDuration } from '../monitors/idle-waiter.js';
import { definePhase, type PhaseContext } from './phase.js';

type UploadContext = PhaseContext<'transfers'>;

/**
 * Streams the archive home as it is made: tar | zstd, cut into checksummed chunks. When home
 * has been out of reach for longer than the job allows, the agent keeps the archive on the VM
 * (and in the user's bucket when one is configured), then sends it from there once home is
 * back; only the controller deletes the VM.
 */
export const upload = definePhase({
  name: 'upload',
  needs: ['transfers'],
  run: async (context) => {
    const { job, state } = context;
    const holdAfterMs = state.holdAfterMs ?? job.offline.holdAfterMinutes * 60_000;
    const timeLeft = () => Math.max(holdAfterMs - state.connection.offlineForMs(), 0);
    for (let attempt = 0; state.connection.offlineForMs() < holdAfterMs; attempt++) {
      try {
        // Waiting for home never outlasts the time before the archive is kept here instead.
        return { ...(await streamHome(context, Math.min(HOME_PATIENCE_MS, timeLeft()))), held: false };
      } catch (error) {
        // A refusal (token, digest) is not a reachability problem: holding would not help.
        if (!isPlexliftError(error, 'CONTROLLER_UNREACHABLE')) throw error;
        context.report({ type: 'log', level: 'warn', message: `upload interrupted, trying again: ${error.message}` });
        await sleep(Math.min(backoffDelay(attempt, { baseMs: 500, maxMs: 30_000 }), timeLeft()), undefined, { signal: context.signal });
      }
    }
    return holdThenSend(context, holdAfterMs);
  },
});

async function streamHome({ state, signal, progress }: UploadContext, patienceMs: number): Promise<UploadResult> {
  const controller = new AbortController();
  const archive = createPlexArchive(state.pmsDir, { signal: AbortSignal.any([signal, controller.signal]) });
  const started = performance.now();
  try {
    return await uploadArchive(archive.stream, {
      baseUrl: state.transfers.baseUrl,
      transferId: state.transfers.exportId,
      token: state.transfers.token,
      fetch: state.connection.fetch,
      signal,
      // The archive's size is known only at its end: a rate, no percent.
      onProgress: (p) =>
        progress({
          rate: mebibytesPerSecond(p.bytes, started),
          message: `${p.chunks} chunks, ${(p.bytes / 1024 / 1024).toFixed(1)} MiB sent, zstd level ${archive.levels.at(-1)}`,
        }),
      beforeComplete: () => archive.finished,
      patienceMs,
    });
  } catch (error) {
    controller.abort();
    throw error;
  }
}

async function holdThenSend({ job, state, signal, progress, report }: UploadContext, holdAfterMs: number): Promise<Record<string, unknown>> {
  progress({ message: 'home is out of reach: keeping the archive on the VM' });
  const held: HeldArchive = await holdArchive(state.pmsDir, join(state.workDir, 'held'), job.jobId, { signal });
  report({
    type: 'log',
    level: 'warn',
    message: `home out of reach for more than ${formatDuration(holdAfterMs)}: the archive is kept on the VM (${held.bytes} bytes, sha256 ${held.sha256})`,
  });
  let copiedTo: string | undefined;
  if (job.offline.archiveRemote) {
    const configPath = join(state.workDir, 'rclone.conf');
    copiedTo = await copyHeldArchive(held, job.offline.archiveRemote, existsSync(configPath) ? configPath : undefined, signal);
    report({ type: 'log', level: 'info', message: `archive copied to ${copiedTo}` });
  }
  const result = await retry(
    async () => {
      progress({ message: 'waiting for home to come back' });
      await state.connection.online(signal);
      const started = performance.now();
      return uploadArchive(createReadStream(held.path), {
        baseUrl: state.transfers.baseUrl,
        transferId: state.transfers.exportId,
        token: state.transfers.token,
        fetch: state.connection.fetch,
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
    },
    { backoff: { baseMs: 1_000, maxMs: 60_000 }, retryIf: (error) => isPlexliftError(error, 'CONTROLLER_UNREACHABLE'), signal },
  );
  return { ...result, held: true, heldPath: held.path, ...(copiedTo ? { copiedTo } : {}) };
}

function mebibytesPerSecond(bytes: number, since: number): { value: number; unit: string } {
  const seconds = (performance.now() - since) / 1000;
  return { value: seconds > 0 ? Math.round((bytes / 1024 / 1024 / seconds) * 10) / 10 : 0, unit: 'MiB/s' };
}
