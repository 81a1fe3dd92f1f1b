import { chmodSync, createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listBackups } from '../../packages/controller/src/install/backups.js';
import { installArchive, type InstallStep } from '../../packages/controller/src/install/home-install.js';
import { createPlexControl } from '../../packages/controller/src/install/plex-control.js';
import { buildPlexSimImage } from '../plex-sim/image/build-plex-sim-image.js';
import { cloudResult } from '../utils/cloud-result.js';
import { startDockerEngine, type DockerEngine } from '../utils/docker-engine.js';
import { freePort } from '../utils/free-port.js';
import { createHomePlex, libraryFingerprint, type HomePlex } from '../utils/home-plex.js';
import { readStatsOf } from '../utils/sqlite-files.js';
import { createTempDir } from '../utils/temp-dir.js';

const IMAGE = 'plexlift/plex-sim:home-install';

/**
 * The home Plex as most home labs run it: a container (the plex-sim image standing in for
 * `plexinc/pms-docker`) with its config folder bind-mounted; the install stops and starts it
 * through the Docker Engine API on the engine's socket.
 */
describe('the home install with a Docker container as the home Plex', () => {
  let root: string;
  let engine: DockerEngine;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'plexlift-docker-home-'));
    chmodSync(root, 0o755); // the container's plex user (PLEX_UID) must reach its config folder
    engine = await startDockerEngine(join(root, 'engine'));
    await buildPlexSimImage(engine, IMAGE);
  }, 180_000);

  afterAll(async () => {
    await engine?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  async function homeContainer(name: string): Promise<{ home: HomePlex; url: string }> {
    const dir = join(root, name);
    // The library made (and scanned) by the process rig, then served by a container instead.
    const home = await createHomePlex(dir);
    await home.close();
    const port = await freePort();
    engine.docker([
      'run', '-d', '--network', 'host', '--name', name,
      '-e', 'PLEX_UID=1000', '-e', 'PLEX_GID=1000', '-e', `PLEX_SIM_PORT=${port}`,
      '-v', `${home.paths.config}:/config`, '-v', `${join(dir, 'media')}:${join(dir, 'media')}:ro`,
      IMAGE, '--speed', '10000',
    ]);
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 200 && !(await fetch(`${url}/identity`).then((r) => r.ok, () => false)); i++) await sleep(100);
    return { home, url };
  }

  const startedAt = (name: string) => engine.docker(['inspect', '--format', '{{.State.StartedAt}}', name]).trim();

  it('stops the container, installs, starts it again and checks it: new films in, owned by the container user, Preferences.xml kept', async () => {
    const { home, url } = await homeContainer('plex-home');
    const archive = await cloudResult(home, 2);
    const firstStart = startedAt('plex-home');
    const preferences = libraryFingerprint(home.paths.pms)['Preferences.xml'];
    const steps: InstallStep[] = [];
    const state = createTempDir('state-');
    const result = await installArchive({
      archive: createReadStream(archive),
      jobId: 'job-0001',
      pmsDir: home.paths.pms,
      stagingDir: join(state, 'install'),
      backupsDir: join(state, 'backups'),
      keepBackups: 2,
      control: createPlexControl({ type: 'docker', container: 'plex-home', socketPath: engine.socket }),
      plex: { url, token: 'home-token' },
      startTimeoutMs: 20_000,
      onStep: (step) => {
        steps.push(step);
        // Stopped through the API: the container has exited before the backup starts.
        if (step === 'backing-up') expect(engine.docker(['inspect', '--format', '{{.State.Running}}', 'plex-home']).trim()).toBe('false');
      },
    });
    expect(steps).toEqual(['staging', 'checking', 'stopping', 'backing-up', 'installing', 'starting', 'verifying', 'done']);
    expect(startedAt('plex-home')).not.toBe(firstStart);
    expect(engine.docker(['inspect', '--format', '{{.State.Running}}', 'plex-home']).trim()).toBe('true');
    expect(result.stats.sections[0]?.counts.movie).toBe(6);
    expect(readStatsOf(home.paths.mainDb).library.sections[0]?.counts.movie).toBe(6);
    expect(statSync(home.paths.mainDb)).toMatchObject({ uid: 1000, gid: 1000 });
    expect(libraryFingerprint(home.paths.pms)['Preferences.xml']).toBe(preferences);
    expect(listBackups(join(state, 'backups'))).toHaveLength(1);
    const films = await fetch(`${url}/library/sections/1/all?type=1&X-Plex-Container-Start=0&X-Plex-Container-Size=0`, { headers: { Accept: 'application/json' } });
    expect(((await films.json()) as { MediaContainer: { totalSize: number } }).MediaContainer.totalSize).toBe(6);
  });

  it('a container name that does not exist: the error names it, and nothing at home changes', async () => {
    const { home, url } = await homeContainer('plex-real');
    const archive = await cloudResult(home, 1);
    const before = libraryFingerprint(home.paths.pms);
    const state = createTempDir('state-');
    await expect(
      installArchive({
        archive: createReadStream(archive),
        jobId: 'job-0002',
        pmsDir: home.paths.pms,
        stagingDir: join(state, 'install'),
        backupsDir: join(state, 'backups'),
        keepBackups: 2,
        control: createPlexControl({ type: 'docker', container: 'plex-typo', socketPath: engine.socket }),
        plex: { url, token: 'home-token' },
        startTimeoutMs: 20_000,
      }),
    ).rejects.toThrow(/docker could not stop the container plex-typo: HTTP 404 No such container: plex-typo/);
    expect(libraryFingerprint(home.paths.pms)).toEqual(before);
    expect(engine.docker(['inspect', '--format', '{{.State.Running}}', 'plex-real']).trim()).toBe('true');
    expect(listBackups(join(state, 'backups'))).toEqual([]);
  });
});
