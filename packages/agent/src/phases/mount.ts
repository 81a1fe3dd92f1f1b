import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PlexliftError } from '@plexlift/shared';
import type { JobState } from '../job-state.js';
import { mountRclone } from '../rclone-mount.js';
import type { Phase } from './phase.js';

/** Mounts the media at the path home uses, with the job's VFS profile, and checks it lists. */
export const mount: Phase<JobState> = {
  name: 'mount',
  run: async ({ job, state, signal }) => {
    const configPath = join(state.workDir, 'rclone.conf');
    state.mount = await mountRclone(
      {
        remote: job.media.remote,
        mountPoint: job.media.mountPath,
        profile: job.media.vfsProfile,
        cacheDir: join(state.workDir, 'rclone-cache'),
        configPath: existsSync(configPath) ? configPath : undefined,
      },
      signal,
    );
    const health = await state.mount.checkHealth([]);
    if (!health.listed) throw new PlexliftError('SAFETY_STOP', `the media mount ${job.media.mountPath} does not list: ${health.problems.join('; ')}`);
    return { mountPoint: job.media.mountPath, profile: job.media.vfsProfile };
  },
};
