import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { listBackups } from '../../packages/controller/src/install/backups.js';
import { installArchive, type InstallStep } from '../../packages/controller/src/install/home-install.js';
import { createPlexControl } from '../../packages/controller/src/install/plex-control.js';
import { buildPlexSimImage } from '../plex-sim/image/build-plex-sim-image.js';
import { cloudResult } from '../utils/cloud-result.js';
import { startDockerSandbox, type DockerEngine, type DockerSandbox } from '../utils/docker-engine.js';
import { freePort } from '../utils/free-port.js';
import { homeInstallOptions } from '../utils/home-install-options.js';
import { createHomePlex, libraryFingerprint, type HomePlex } from '../utils/home-plex.js';
import { readStatsOf } from '../utils/sqlite-files.js';

const IMAGE = 'plexlift/plex-sim:home-install';

/**
 * The home Plex as most home labs run it: a container (the plex-sim image standing in for
 * `plexinc/pms-docker`) with its config folder bind-mounted; the install stops and starts it
 * through the Docker Engine API on the engine's socket.
 */
describe('the home install with a Docker container as the home Plex', () => {
  let root: string;
  let engine: DockerEngine;
  let sandbox: DockerSandbox | undefined;

  beforeAll(async () => {
    sandbox = await startDockerSandbox('plexlift-docker-home-');
    ({ root, engine } = sandbox);
    await buildPlexSimImage(engine, IMAGE);
  }, 180_000);

  afterAll(async () => {
    await sandbox?.close();
  });

  async function homeContainer(name: string): Promise<{ home: HomePlex; url: string }> {
    const dir = join(root, name);
    // The library made (and scanned) by the process rig, then served by a container instead.
    const home = await createHomePlex(dir);
    await home.close();
    const port = await freePort();
    engine.docker([
      'run',
      '-d',
      '--network',
      'host',
      '--name',
      name,
      '-e',
      'PLEX_UID=1000',
      '-e',
      'PLEX_GID=1000',
      '-e',
      `PLEX_SIM_PORT=${port}`,
      '-v',
      `${home.paths.config}:/config`,
      '-v',
      `${join(dir, 'media')}:${join(dir, 'media')}:ro`,
      IMAGE,
      '--speed',
      '10000',
    ]);
    const url = `http://127.0.0.1:${port}`;
    await vi.waitFor(
      async () =>
        expect(
          await fetch(`${url}/identity`).then(
            (r) => r.ok,
            () => false,
          ),
          'plex-sim answers',
        ).toBe(true),
      { timeout: 20_000, interval: 100 },
    );
    return { home, url };
  }

  const startedAt = (name: string) => engine.docker(['inspect', '--format', '{{.State.StartedAt}}', name]).trim();

  it('stops the container, installs, starts it again and checks it: new films in, owned by the container user, Preferences.xml kept', async () => {
    const { home, url } = await homeContainer('plex-home');
    const archive = await cloudResult(home, 2);
    const firstStart = startedAt('plex-home');
    const preferences = libraryFingerprint(home.paths.pms)['Preferences.xml'];
    const steps: InstallStep[] = [];
    const options = homeInstallOptions(
      { pmsDir: home.paths.pms, control: createPlexControl({ type: 'docker', container: 'plex-home', socketPath: engine.socket }), url },
      archive,
      {
        startTimeoutMs: 20_000,
        steps,
        // Stopped through the API: the container has exited before the backup starts.
        onStep: (step) => {
          if (step === 'backing-up') expect(engine.docker(['inspect', '--format', '{{.State.Running}}', 'plex-home']).trim()).toBe('false');
        },
      },
    );
    const result = await installArchive(options);
    expect(steps).toEqual(['staging', 'checking', 'stopping', 'backing-up', 'installing', 'starting', 'verifying', 'done']);
    expect(startedAt('plex-home')).not.toBe(firstStart);
    expect(engine.docker(['inspect', '--format', '{{.State.Running}}', 'plex-home']).trim()).toBe('true');
    expect(result.stats.sections[0]?.counts.movie).toBe(6);
    expect(readStatsOf(home.paths.mainDb).library.sections[0]?.counts.movie).toBe(6);
    expect(statSync(home.paths.mainDb)).toMatchObject({ uid: 1000, gid: 1000 });
    expect(libraryFingerprint(home.paths.pms)['Preferences.xml']).toBe(preferences);
    expect(listBackups(options.backupsDir)).toHaveLength(1);
    const films = await fetch(`${url}/library/sections/1/all?type=1&X-Plex-Container-Start=0&X-Plex-Container-Size=0`, {
      headers: { Accept: 'application/json' },
    });
    expect(((await films.json()) as { MediaContainer: { totalSize: number } }).MediaContainer.totalSize).toBe(6);
  });

  it('a container name that does not exist: the error names it, and nothing at home changes', async () => {
    const { home, url } = await homeContainer('plex-real');
    const archive = await cloudResult(home, 1);
    const before = libraryFingerprint(home.paths.pms);
    const options = homeInstallOptions(
      { pmsDir: home.paths.pms, control: createPlexControl({ type: 'docker', container: 'plex-typo', socketPath: engine.socket }), url },
      archive,
      { jobId: 'job-0002', startTimeoutMs: 20_000 },
    );
    await expect(installArchive(options)).rejects.toThrow(/docker could not stop the container plex-typo: HTTP 404 No such container: plex-typo/);
    expect(libraryFingerprint(home.paths.pms)).toEqual(before);
    expect(engine.docker(['inspect', '--format', '{{.State.Running}}', 'plex-real']).trim()).toBe('true');
    expect(listBackups(options.backupsDir)).toEqual([]);
  });
});
