import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isPlexliftError, PlexliftError } from '@plexlift/shared';
import { formatBytes } from '@plexlift/shared/plex-db';
import { chunkBytesForRate, TRANSFER_CHUNK_BYTES } from '@plexlift/shared/transfer';
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
    const link: LinkRate = { chunkBytes: TRANSFER_CHUNK_BYTES };
    for (let attempt = 0; state.connection.offlineForMs() < holdAfterMs; attempt++) {
      try {
        // Waiting for home never outlasts the time before the archive is kept here instead.
        return { ...(await streamHome(context, Math.min(HOME_PATIENCE_MS, timeLeft()), holdAfterMs, link)), held: false };
      } catch (error) {
        // Home stayed full for as long as the job waits for home: the archive is kept, the job stops.
        if (isPlexliftError(error, 'DISK_FULL') && error.details?.status === 507) return keepAfterNoRoom(context, error);
        // A refusal (token, digest) is not a reachability problem: holding would not help.
        if (!isPlexliftError(error, 'CONTROLLER_UNREACHABLE')) throw error;
        context.report({ type: 'log', level: 'warn', message: `upload interrupted, trying again: ${error.message}${resizeChunks(link)}` });
        await sleep(Math.min(backoffDelay(attempt, { baseMs: 500, maxMs: 30_000 }), timeLeft()), undefined, { signal: context.signal });
      }
    }
    return holdThenSend(context, holdAfterMs);
  },
});

/** What the last attempt measured of the link home, and the chunk size the next one cuts. */
interface LinkRate {
  chunkBytes: number;
  /** Bytes home took in the last attempt, and how long it ran. */
  sentBytes?: number;
  elapsedMs?: number;
}

/**
 * After an interrupted attempt in which home took chunks, chunks shrink to about a minute of what
 * the link moved (a slow link then loses less at each cut; the archive is made again anyway).
 * An attempt that sent nothing says nothing of the link (home may have been down). Chunks never
 * grow back within the job. Returns what to add to the log line.
 */
function resizeChunks(link: LinkRate): string {
  if (!link.elapsedMs || !link.sentBytes) return '';
  const rate = (link.sentBytes / link.elapsedMs) * 1000;
  const next = Math.min(link.chunkBytes, chunkBytesForRate(rate));
  if (next === link.chunkBytes) return '';
  link.chunkBytes = next;
  return ` (the link moved ${formatBytes(rate)}/s: chunks of ${formatBytes(next)} from now on)`;
}

async function streamHome(
  { job, state, signal, progress, report }: UploadContext,
  patienceMs: number,
  roomWaitMs: number,
  link: LinkRate,
): Promise<UploadResult> {
  const controller = new AbortController();
  const archive = createPlexArchive(state.pmsDir, { signal: AbortSignal.any([signal, controller.signal]) });
  const started = performance.now();
  link.sentBytes = 0;
  link.elapsedMs = 0;
  try {
    return await uploadArchive(archive.stream, {
      baseUrl: state.transfers.baseUrl,
      transferId: state.transfers.exportId,
      token: state.transfers.token,
      fetch: state.connection.fetch,
      signal,
      bwlimitBytesPerSecond: job.bwlimitBytesPerSecond,
      chunkBytes: link.chunkBytes,
      // The archive's size is known only at its end: a rate, no percent.
      onProgress: (p) => {
        link.sentBytes = p.sentBytes;
        progress({
          rate: mebibytesPerSecond(p.bytes, started),
          message: `${p.chunks} chunks, ${(p.bytes / 1024 / 1024).toFixed(1)} MiB sent, zstd level ${archive.levels.at(-1)}`,
        });
      },
      beforeComplete: () => archive.finished,
      patienceMs,
      // A full home disk (507) is waited out on the same transfer: nothing is archived again.
      room: { waitMs: roomWaitMs, pollMs: Math.min(5_000, Math.max(roomWaitMs / 10, 100)) },
      onNoRoom: ({ free, needed, leftMs }) => {
        const message = `home has no room for the archive: ${formatBytes(free)} free, ${formatBytes(needed)} needed; waiting (up to ${formatDuration(leftMs)} more)`;
        progress({ message });
        report({ type: 'log', level: 'warn', message });
      },
    });
  } catch (error) {
    controller.abort();
    throw error;
  } finally {
    link.elapsedMs = performance.now() - started;
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
        bwlimitBytesPerSecond: job.bwlimitBytesPerSecond,
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

/**
 * Home had no room for the archive for as long as the job waits for home: the upload stops so
 * the VM stops billing. The archive is kept where the user can fetch it: copied to
 * `offline.archiveRemote` when one is configured, else on the VM's disk (the media mount is
 * read-only and the media bucket is the user's library: the agent never writes there). The job
 * fails saying where the archive is.
 */
async function keepAfterNoRoom({ job, state, signal, progress, report }: UploadContext, cause: PlexliftError): Promise<never> {
  progress({ message: 'home has no room for the archive: keeping it on the VM' });
  const held = await holdArchive(state.pmsDir, join(state.workDir, 'held'), job.jobId, { signal });
  let where = `on the VM at ${held.path} (sha256 ${held.sha256}; it goes with the VM unless the job was run with --keep)`;
  if (job.offline.archiveRemote) {
    const configPath = join(state.workDir, 'rclone.conf');
    const copiedTo = await copyHeldArchive(held, job.offline.archiveRemote, existsSync(configPath) ? configPath : undefined, signal);
    where = `in ${copiedTo} (sha256 ${held.sha256})`;
  }
  report({ type: 'log', level: 'warn', message: `the archive is kept ${where}` });
  throw new PlexliftError('DISK_FULL', `${cause.message}. The archive is kept ${where}; free space in home's server.stateDir and run the job again`, {
    details: { ...cause.details, archive: held.path, sha256: held.sha256 },
  });
}

function mebibytesPerSecond(bytes: number, since: number): { value: number; unit: string } {
  const seconds = (performance.now() - since) / 1000;
  return { value: seconds > 0 ? Math.round((bytes / 1024 / 1024 / seconds) * 10) / 10 : 0, unit: 'MiB/s' };
}
