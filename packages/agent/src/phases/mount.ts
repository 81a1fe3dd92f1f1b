import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PlexliftError } from '@plexlift/shared';
import type { JobState } from '../job-state.js';
import { MountSupervisor } from '../mount-supervisor.js';
import { mountRclone } from '../rclone-mount.js';
import type { Phase } from './phase.js';

/** Mounts the media at the path home uses, with the job's VFS profile, and checks it lists. */
export const mount: Phase<JobState> = {
  name: 'mount',
  run: async ({ job, state, signal, report }) => {
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
    state.mountSupervisor = new MountSupervisor(state.mount, {
      ...(state.mountCheckMs ? { intervalMs: state.mountCheckMs } : {}),
      sampleFiles: () => state.mountSample ?? [],
      onEvent: ({ decision, health: now, error }) => {
        const problem = now.problems[0] ?? 'no problem left';
        const messages = {
          remount: `the media mount stopped answering (${problem}); nothing reads through it, so it is remounted`,
          'wait-for-idle': `the media mount stopped answering (${problem}); Plex is reading through it, so it is left alone until it is idle`,
          remounted: `the media mount was remounted: ${now.healthy ? 'healthy again' : `still failing (${problem})`}`,
          'remount-failed': `remounting the media failed: ${error ?? ''}`,
        };
        report({ type: 'log', level: decision === 'remounted' && now.healthy ? 'info' : 'warn', message: messages[decision] });
      },
    });
    state.mountSupervisor.start();
    return { mountPoint: job.media.mountPath, profile: job.media.vfsProfile };
  },
};
