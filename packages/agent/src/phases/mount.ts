import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PlexliftError } from '@plexlift/shared';
import type { AgentEvent } from '@plexlift/shared/protocol';
import { MountSupervisor, type MountSupervisorEvent } from '../media/mount-supervisor.js';
import { mountRclone } from '../media/rclone-mount.js';
import { definePhase } from './phase.js';

/**
 * Mounts the media at the path home uses, with the job's VFS profile, checks it lists, and starts
 * its supervisor, which reads the sample preflight fills from then on.
 */
export const mount = definePhase({
  name: 'mount',
  makes: ['mount', 'mountSupervisor', 'mountSample'],
  run: async ({ job, state, signal, report, make }) => {
    const configPath = join(state.workDir, 'rclone.conf');
    const media = await mountRclone(
      {
        remote: job.media.remote,
        mountPoint: job.media.mountPath,
        profile: job.media.vfsProfile,
        cacheDir: join(state.workDir, 'rclone-cache'),
        configPath: existsSync(configPath) ? configPath : undefined,
      },
      signal,
    );
    // Made at once: the end of the job unmounts it, whatever happens next.
    make({ mount: media });
    const health = await media.checkHealth([]);
    if (!health.listed) throw new PlexliftError('SAFETY_STOP', `the media mount ${job.media.mountPath} does not list: ${health.problems.join('; ')}`);
    const mountSample: string[] = [];
    const mountSupervisor = new MountSupervisor(media, {
      ...(state.mountCheckMs ? { intervalMs: state.mountCheckMs } : {}),
      sampleFiles: () => mountSample,
      onEvent: (event) => report(describeSupervision(event)),
    });
    make({ mountSupervisor, mountSample });
    mountSupervisor.start();
    return { mountPoint: job.media.mountPath, profile: job.media.vfsProfile };
  },
});

function describeSupervision({ decision, health, error }: MountSupervisorEvent): AgentEvent {
  const problem = health.problems[0] ?? 'no problem left';
  const messages = {
    remount: `the media mount stopped answering (${problem}); nothing reads through it, so it is remounted`,
    'wait-for-idle': `the media mount stopped answering (${problem}); Plex is reading through it, so it is left alone until it is idle`,
    remounted: `the media mount was remounted: ${health.healthy ? 'healthy again' : `still failing (${problem})`}`,
    'remount-failed': `remounting the media failed: ${error ?? ''}`,
  };
  return { type: 'log', level: decision === 'remounted' && health.healthy ? 'info' : 'warn', message: messages[decision] };
}
