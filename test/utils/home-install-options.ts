import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_DELETION_CAP } from '@plexlift/shared';
import type { HomeInstallOptions, InstallStep } from '../../packages/controller/src/install/home-install.js';
import type { PlexControl } from '../../packages/controller/src/install/plex-control.js';
import { createTempDir } from './temp-dir.js';

/**
 * What the install tests give `installArchive`: the archive, a home Plex (its data dir, how it is
 * stopped and started, where it answers), staging and backups in a fresh state folder, each step
 * recorded in `steps` and passed to `onStep`.
 */
export function homeInstallOptions(
  home: { pmsDir: string; control: PlexControl; url: string },
  archive: string,
  options: { jobId?: string; startTimeoutMs: number; steps?: InstallStep[]; onStep?: (step: InstallStep) => void; allowDeletions?: boolean },
): HomeInstallOptions & { backupsDir: string } {
  const state = createTempDir('state-');
  return {
    archive: createReadStream(archive),
    jobId: options.jobId ?? 'job-0001',
    pmsDir: home.pmsDir,
    stagingDir: join(state, 'install'),
    backupsDir: join(state, 'backups'),
    keepBackups: 2,
    control: home.control,
    plex: { url: home.url, token: 'home-token' },
    startTimeoutMs: options.startTimeoutMs,
    deletions: { cap: { ...DEFAULT_DELETION_CAP }, allow: options.allowDeletions ?? false },
    onStep: (step) => {
      options.steps?.push(step);
      options.onStep?.(step);
    },
  };
}
