import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DockerApi, dockerMessage } from '@plexlift/shared/docker';
import { checkIntegrity } from '@plexlift/shared/plex-db';
import type { JobSpec } from '@plexlift/shared/protocol';
import { createDockerPlexRuntime } from '../../packages/agent/src/plex/docker-plex-runtime.js';
import { repair } from '../../packages/agent/src/phases/repair.js';
import { stopPlex } from '../../packages/agent/src/plex/stop-plex.js';
import { generateLibrary } from '../utils/library-generator.js';
import { countRows, destroyPage } from '../utils/sqlite-files.js';
import { buildPlexSimImage } from '../plex-sim/image/build-plex-sim-image.js';
import { dataDirPaths } from '../plex-sim/data-dir.js';
import { startPlexTvSim, type PlexTvSim } from '../plex-tv-sim/plex-tv-sim.js';
import { startDockerSandbox, type DockerEngine, type DockerSandbox } from '../utils/docker-engine.js';
import { freePort } from '../utils/free-port.js';
import { createMediaTree } from '../utils/media-tree.js';
import { jobStateFor } from '../utils/agent-job-state.js';
import { startDockerSocketProxy, type DockerSocketProxy } from '../../packages/controller/src/providers/docker-socket-proxy.js';

const VERSION = '1.43.2.10687-563d026ea';
// The double stands in for the official image under the official image's name and tag.
const IMAGE = 'plexinc/pms-docker';

describe("the Docker Plex runtime (a real Docker engine behind the job's socket proxy, the plex-sim image as plexinc/pms-docker)", () => {
  let root: string;
  let engine: DockerEngine;
  let sandbox: DockerSandbox | undefined;
  let tv: PlexTvSim;
  const proxies: DockerSocketProxy[] = [];
  /** The socket the docker provider gives a job's agent: its Plex container and nothing else. */
  const proxyFor = async (plexContainer: string, writableFolders: string[], readOnlyFolders: string[] = []) => {
    const proxy = await startDockerSocketProxy({
      socketPath: join(root, 'sockets', plexContainer, 'docker.sock'),
      enginePath: engine.socket,
      policy: { plexContainer, plexImage: IMAGE, writableFolders, readOnlyFolders },
    });
    proxies.push(proxy);
    return proxy;
  };

  beforeAll(async () => {
    sandbox = await startDockerSandbox('plexlift-docker-runtime-');
    ({ root, engine } = sandbox);
    await buildPlexSimImage(engine, `${IMAGE}:${VERSION}`);
    tv = await startPlexTvSim({ accountToken: 'owner-token' });
  }, 180_000);

  afterAll(async () => {
    for (const proxy of proxies) await proxy.close();
    await tv?.close();
    await sandbox?.close();
  });

  it("runs the pinned version as the image expects (claim, uid, media read-only, host network), the container's CPU is seen during a scan, and a stop removes it with its logs kept", async () => {
    const proxy = await proxyFor('plexlift-plex-job-1', [join(root, 'config'), join(root, 'transcode')], [join(root, 'media')]);
    // systeminformation finds the engine where the agent does: DOCKER_SOCKET, read when it loads.
    process.env.DOCKER_SOCKET = proxy.socketPath;
    const { createContainerCpuMonitor } = await import('../../packages/agent/src/monitors/cpu-monitor.js');
    const media = createMediaTree(join(root, 'media'), { movies: 24 });
    const port = await freePort();
    const logs: string[] = [];
    const docker = new DockerApi(proxy.socketPath);
    const runtime = createDockerPlexRuntime({
      docker,
      configDir: join(root, 'config'),
      transcodeDir: join(root, 'transcode'),
      containerName: 'plexlift-plex-job-1',
      url: `http://127.0.0.1:${port}`,
      env: { PLEX_SIM_PORT: String(port), PLEX_TV_URL: tv.url, PLEX_SIM_KNOBS: JSON.stringify({ speed: 20, cpuMsPerItem: 4_000 }) },
      onLog: (line) => logs.push(line),
    });
    const claim = ((await (await fetch(`${tv.url}/api/claim/token.json`, { headers: { 'X-Plex-Token': 'owner-token' } })).json()) as { token: string }).token;
    const { url } = await runtime.start({
      version: VERSION,
      claimToken: claim,
      mediaPaths: [join(root, 'media')],
      uid: 1000,
      gid: 1000,
      timeZone: 'Europe/Paris',
    });
    expect(runtime.isRunning()).toBe(true);
    const identity = await vi.waitFor(
      async () => {
        const text = await fetch(`${url}/identity`).then(
          (r) => r.text(),
          () => '',
        );
        expect(text, 'the container claimed').toContain('claimed="1"');
        return text;
      },
      { timeout: 30_000, interval: 100 },
    );
    expect(identity).toContain(`version="${VERSION}"`);
    const inspect = JSON.parse((await docker.call('GET', '/containers/plexlift-plex-job-1/json')).body) as {
      Config: { Image: string; Env: string[] };
      HostConfig: { NetworkMode: string };
      Mounts: { Destination: string; RW: boolean }[];
    };
    expect(inspect.Config.Image).toBe(`${IMAGE}:${VERSION}`);
    expect(inspect.Config.Env).toEqual(expect.arrayContaining(['PLEX_UID=1000', 'PLEX_GID=1000', 'TZ=Europe/Paris']));
    expect(inspect.HostConfig.NetworkMode).toBe('host');
    expect(inspect.Mounts.map((m) => `${m.Destination}=${m.RW}`).sort()).toEqual(['/config=true', '/transcode=true', `${join(root, 'media')}=false`].sort());

    const monitor = createContainerCpuMonitor('plexlift-plex-job-1');
    const idle = await monitor.read();
    const token = /PlexOnlineToken="([^"]+)"/.exec(readFileSync(dataDirPaths(join(root, 'config')).preferences, 'utf8'))![1]!;
    // Plex answers /identity before its start-up is complete (plex-api.md): 400 until then.
    await vi.waitFor(
      async () => {
        const created = await fetch(`${url}/library/sections?name=Movies&type=movie&location=${encodeURIComponent(media.roots.movies)}&X-Plex-Token=${token}`, {
          method: 'POST',
        });
        expect(created.status, 'the section created once start-up is complete').toBe(200);
      },
      { timeout: 30_000, interval: 100 },
    );
    // One core busy on this machine is 100 / cores percent of it. (A reading takes Docker about a second.)
    const busy = Math.max(10, idle + 5);
    let busiest = 0;
    for (let i = 0; i < 15 && busiest <= busy; i++) busiest = Math.max(busiest, await monitor.read());
    expect(busiest).toBeGreaterThan(busy);

    const stopped = await runtime.stop();
    expect(stopped.clean).toBe(true);
    expect(runtime.isRunning()).toBe(false);
    expect((await docker.call('GET', '/containers/plexlift-plex-job-1/json')).status).toBe(404);
    expect(logs.some((line) => line.startsWith('listening'))).toBe(true);
    // The end of its output comes back for the job's log, the claim token masked.
    expect(stopped.output?.some((line) => line.startsWith('listening'))).toBe(true);
    expect([...logs, ...(stopped.output ?? [])].join('\n')).not.toContain(claim);
    expect(await monitor.read()).toBe(0);
    // Stopping what is already gone is fine.
    expect(await runtime.stop()).toEqual({ clean: true });
  }, 120_000);

  it("runs the image's own Plex SQLite: a killed Plex's WAL is folded in by it, and a corrupt DB is recovered by it", async () => {
    const configDir = join(root, 'sqlite-config');
    const dbDir = join(configDir, 'Library', 'Application Support', 'Plex Media Server', 'Plug-in Support', 'Databases');
    mkdirSync(dbDir, { recursive: true });
    const library = generateLibrary({ dir: dbDir, size: 'small' });
    const proxy = await proxyFor('plexlift-plex-sqlite', [configDir, join(root, 'sqlite-transcode')]);
    const runtime = createDockerPlexRuntime({
      docker: new DockerApi(proxy.socketPath),
      configDir,
      transcodeDir: join(root, 'sqlite-transcode'),
      containerName: 'plexlift-plex-sqlite',
    });

    // What a SIGKILLed Plex leaves: committed rows still in the WAL only.
    const live = new Database(library.mainDb);
    live.pragma('journal_mode = WAL');
    live.pragma('wal_autocheckpoint = 0');
    live.exec("CREATE TABLE wal_probe (x TEXT); INSERT INTO wal_probe VALUES ('only-in-the-wal')");
    copyFileSync(library.mainDb, `${library.mainDb}.killed`);
    copyFileSync(`${library.mainDb}-wal`, `${library.mainDb}.killed-wal`);
    live.close();
    copyFileSync(`${library.mainDb}.killed`, library.mainDb);
    copyFileSync(`${library.mainDb}.killed-wal`, `${library.mainDb}-wal`);
    expect(statSync(`${library.mainDb}-wal`).size).toBeGreaterThan(0);

    const stopped = await stopPlex(runtime, library.mainDb, { version: VERSION });
    expect(stopped.checkpoint).toEqual({ by: `Plex SQLite in ${IMAGE}:${VERSION}` });
    expect(existsSync(`${library.mainDb}-wal`) ? statSync(`${library.mainDb}-wal`).size : 0).toBe(0);
    expect(countRows(library.mainDb, 'wal_probe')).toBe(1);
    // Run as the agent's user: what it wrote is the agent's.
    expect(statSync(library.mainDb).uid).toBe(process.getuid!());

    const parts = countRows(library.mainDb, 'media_parts');
    destroyPage(library.mainDb, 'index_media_parts_on_file');
    const reports: string[] = [];
    const state = jobStateFor({
      runtime,
      mainDb: library.mainDb,
      workDir: root,
      pmsDir: join(configDir, 'Library', 'Application Support', 'Plex Media Server'),
    });
    const job = { mode: 'delta', plex: { version: VERSION } } as JobSpec;
    const summary = await repair.run({
      job,
      state,
      signal: new AbortController().signal,
      landing: new AbortController().signal,
      make: () => undefined,
      progress: () => undefined,
      report: (event) => reports.push(JSON.stringify(event)),
    });
    expect(summary[library.mainDb]).toMatchObject({ repaired: true, engine: `Plex SQLite in ${IMAGE}:${VERSION}`, rowsLost: 0 });
    expect(reports).toEqual([]);
    expect(countRows(library.mainDb, 'media_parts')).toBe(parts);
    expect((await checkIntegrity(library.mainDb)).ok).toBe(true);
    expect(existsSync(`${library.mainDb}.corrupt`)).toBe(true);
    // No container is left by the one-shot runs.
    expect(engine.docker(['ps', '-aq']).trim()).toBe('');
  }, 180_000);

  it("refuses through the job's socket anything but its own Plex container: other names, images, privileges, binds, other containers", async () => {
    // Things the engine would do: another image it holds, another container it runs.
    engine.docker(['tag', `${IMAGE}:${VERSION}`, 'attacker/tool:1']);
    engine.docker(['create', '--name', 'home-plex', '--network', 'host', `${IMAGE}:${VERSION}`]);
    mkdirSync(join(root, 'job-9', 'plex'), { recursive: true });
    const proxy = await proxyFor('plexlift-plex-job-9', [join(root, 'job-9', 'plex')]);
    const docker = new DockerApi(proxy.socketPath);
    const plex = { Image: `${IMAGE}:${VERSION}`, HostConfig: { NetworkMode: 'host', Binds: [`${join(root, 'job-9', 'plex')}:/config`] } };
    const refused: [string, string, unknown, RegExp][] = [
      ['POST', '/v1.47/containers/create?name=evil', plex, /a container named evil/],
      ['POST', '/containers/create?name=plexlift-plex-job-9', { ...plex, Image: 'attacker/tool:1' }, /the field Image \(attacker\/tool:1\)/],
      ['POST', '/containers/create?name=plexlift-plex-job-9', { ...plex, HostConfig: { ...plex.HostConfig, Privileged: true } }, /HostConfig\.Privileged/],
      [
        'POST',
        '/containers/create?name=plexlift-plex-job-9',
        { ...plex, HostConfig: { ...plex.HostConfig, Binds: ['/:/host'] } },
        /HostConfig\.Binds \(\/:\/host\)/,
      ],
      [
        'POST',
        '/containers/create?name=plexlift-plex-job-9',
        { ...plex, HostConfig: { ...plex.HostConfig, Binds: [`${engine.socket}:/var/run/docker.sock`] } },
        /HostConfig\.Binds/,
      ],
      ['GET', '/containers/json?all=true', undefined, /GET \/containers\/json/],
      ['GET', '/containers/home-plex/json', undefined, /only the job's own containers/],
      ['POST', '/containers/home-plex/exec', { Cmd: ['sh'] }, /only the job's own containers/],
      ['DELETE', '/containers/home-plex?force=true', undefined, /only the job's own containers/],
    ];
    for (const [method, path, body, message] of refused) {
      const answer = await docker.call(method, path, body);
      expect(answer.status, `${method} ${path}`).toBe(403);
      expect(dockerMessage(answer.body), `${method} ${path}`).toMatch(message);
    }
    // The docker CLI through the same socket says why (run without blocking: the proxy answers from this process).
    const cli = (args: string[]) =>
      new Promise<{ status: number | null; stderr: string }>((resolve) => {
        const child = spawn('docker', ['-H', `unix://${proxy.socketPath}`, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('close', (status) => resolve({ status, stderr }));
      });
    const privileged = await cli(['run', '--rm', '--privileged', '--name', 'plexlift-plex-job-9', `${IMAGE}:${VERSION}`]);
    expect(privileged.status).not.toBe(0);
    expect(privileged.stderr).toMatch(/plexlift's Docker proxy refused: the field HostConfig\.Privileged/);
    expect((await cli(['ps'])).stderr).toMatch(/refused: GET \/containers\/json/);
    // Nothing was created, nothing was removed.
    expect(engine.docker(['ps', '-a', '--format', '{{.Names}}']).trim()).toBe('home-plex');
    engine.docker(['rm', 'home-plex']);
  }, 60_000);
});
