import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PlexliftError } from '@plexlift/shared';
import type { PlexControlConfig } from '@plexlift/shared';
import { DockerApi } from '@plexlift/shared/docker';
import { lastStderrLine } from '@plexlift/shared/process';

/** Stops and starts the home Plex; each resolves once the service manager says it is done. */
export interface PlexControl {
  describe: string;
  stop: () => Promise<void>;
  start: () => Promise<void>;
}

export function createPlexControl(config: PlexControlConfig): PlexControl {
  switch (config.type) {
    case 'docker':
      return dockerControl(config.container, config.socketPath);
    case 'systemd':
      return {
        describe: `systemd unit ${config.unit}`,
        stop: () => run(['systemctl', 'stop', config.unit], `systemd unit ${config.unit}`),
        start: () => run(['systemctl', 'start', config.unit], `systemd unit ${config.unit}`),
      };
    case 'command':
      return {
        describe: `the commands ${config.stop.join(' ')} / ${config.start.join(' ')}`,
        stop: () => run(config.stop, 'the stop command'),
        start: () => run(config.start, 'the start command'),
      };
  }
}

async function run(argv: string[], what: string): Promise<void> {
  try {
    await promisify(execFile)(argv[0]!, argv.slice(1), { timeout: 10 * 60_000 });
  } catch (error) {
    throw new PlexliftError('PLEX_API_ERROR', `${what} (${argv.join(' ')}) failed: ${lastStderrLine(error)}`, { cause: error });
  }
}

/**
 * The Docker Engine API over its unix socket: `POST /containers/{name}/stop?t=…` waits for the
 * container to exit (204, or 304 when it already had); `…/start` likewise.
 */
function dockerControl(container: string, socketPath: string): PlexControl {
  const docker = new DockerApi(socketPath);
  const call = async (action: 'stop' | 'start') => {
    await docker.expect(
      `${action} the container ${container}`,
      'POST',
      `/containers/${encodeURIComponent(container)}/${action}${action === 'stop' ? '?t=60' : ''}`,
      [204, 304],
      undefined,
      10 * 60_000,
    );
  };
  return { describe: `docker container ${container}`, stop: () => call('stop'), start: () => call('start') };
}
