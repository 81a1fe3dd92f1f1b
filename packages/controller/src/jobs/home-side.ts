import { join } from 'node:path';
import type { Config } from '@plexlift/shared';
import { TRANSFER_CHUNK_BYTES } from '@plexlift/shared/transfer';
import type { JobRecord, JobStore } from '../store/job-store.js';
import type { ChunkTransfers } from '../transfers/chunk-transfers.js';
import { createHomeSnapshot } from '../transfers/home-snapshot.js';
import { transferIds } from './agent-job.js';
import { readHomeStats, sonicSectionsOf } from './home-library.js';
import { rcloneConfigForJob } from './rclone-remote-config.js';

/**
 * What home prepares before a job's machine exists: the library's counts as it was (kept for the
 * report, and for a restarted controller), the export's transfer open to receive, and for a delta
 * job the snapshot of the live library published for the agent's restore.
 */
export async function stageHomeSide(job: JobRecord, context: { config: Config; jobs: JobStore; transfers: ChunkTransfers }): Promise<void> {
  const { config, jobs, transfers } = context;
  const home = config.home!;
  // The rclone sections the agent will get: a remote missing from rclone.conf fails the job now, before its machine is paid for.
  rcloneConfigForJob(config.media?.rcloneConfigPath, job.spec);
  const ids = transferIds(job.id);
  const before = readHomeStats(home.plexDataDir);
  // Sonic as the job found it, per library: what a landed run added is measured against it.
  const sonicSections = sonicSectionsOf(home.plexDataDir).map(({ analyzed, total, ...section }) => ({ ...section, before: { analyzed, total } }));
  const estimate = jobs.get(job.id)?.report?.estimate;
  jobs.setReport(job.id, { ...(estimate ? { estimate } : {}), ...(before ? { before } : {}), ...(sonicSections.length > 0 ? { sonicSections } : {}) });
  transfers.open(ids.export, job.id, 'export');
  if (job.spec.mode === 'delta') {
    const snapshot = await createHomeSnapshot(home.plexDataDir, join(config.server.stateDir, 'snapshots', job.id), {
      bundles: home.restoreBundles,
      owner: home.owner,
      stateDir: config.server.stateDir,
    });
    await Promise.all([transfers.publish(ids.restore, job.id, snapshot.stream, TRANSFER_CHUNK_BYTES), snapshot.finished]);
  }
}
