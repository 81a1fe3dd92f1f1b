import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '@plexlift/shared';
import { fingerprintOf, PinnedTls } from '@plexlift/shared/tls';
import { startDockerSandbox, type DockerEngine, type DockerSandbox } from '../utils/docker-engine.js';
import { freePort } from '../utils/free-port.js';
import { buildControllerImage } from '../utils/local-images.js';
import { runCli } from '../utils/run-cli.js';

/** The controller as a container (ZimaOS runs its apps so): its image and its compose file. */
describe("the controller's container image", () => {
  let root: string;
  let engine: DockerEngine;
  let sandbox: DockerSandbox | undefined;

  beforeAll(async () => {
    sandbox = await startDockerSandbox('plexlift-controller-image-');
    ({ root, engine } = sandbox);
    buildControllerImage(engine, 'plexlift/controller:test');
  }, 300_000);

  afterAll(async () => {
    await sandbox?.close();
  });

  it('serves on its port with its state in a volume; the CLI outside reaches it by the pinned certificate and the admin token', async () => {
    const port = await freePort();
    const config = join(root, 'config');
    const state = join(root, 'state');
    mkdirSync(config, { recursive: true });
    mkdirSync(state, { recursive: true });
    writeFileSync(join(config, 'config.json'), JSON.stringify({ server: { port, host: '127.0.0.1', stateDir: '/var/lib/plexlift' } }));
    engine.docker([
      'run',
      '-d',
      '--name',
      'plexlift',
      '--network',
      'host',
      '-v',
      `${config}:/etc/plexlift`,
      '-v',
      `${state}:/var/lib/plexlift`,
      'plexlift/controller:test',
    ]);
    // The daemon logs to stderr: both streams of the container.
    const logs = () => {
      const out = spawnSync('docker', ['-H', `unix://${engine.socket}`, 'logs', 'plexlift'], { encoding: 'utf8' });
      return out.stdout + out.stderr;
    };
    await vi.waitFor(() => expect(logs()).toContain(`plexlift listening on https://127.0.0.1:${port}`), { timeout: 20_000, interval: 100 });
    const env = {
      PLEXLIFT_URL: `https://127.0.0.1:${port}`,
      PLEXLIFT_TOKEN: readFileSync(join(state, 'admin-token'), 'utf8').trim(),
      PLEXLIFT_FINGERPRINT: fingerprintOf(readFileSync(join(state, 'tls', 'cert.pem'), 'utf8')),
    };
    const jobs = await runCli(['jobs', '--config', join(config, 'config.json')], { env });
    expect(jobs, jobs.stderr).toMatchObject({ status: 0, stdout: 'No jobs yet.\n' });
    const doctor = await runCli(['doctor', '--json', '--config', join(config, 'config.json')], { env });
    expect(JSON.parse(doctor.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'daemon', ok: true })]));
    // The data plane's routes answer on the same port (the agent bundle: refused without a job's token).
    const pin = new PinnedTls(env.PLEXLIFT_FINGERPRINT);
    const refused = await pin.fetch(`https://127.0.0.1:${port}/agent/bundle?arch=x86_64`, {});
    expect([refused.status, await refused.text()]).toEqual([401, 'unauthorized\n']);
    // The dashboard is in the image, on the same port.
    const page = await pin.fetch(`https://127.0.0.1:${port}/`, {});
    expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    expect(await page.text()).toContain('<script type="module" src="assets/app.js"></script>');
    await pin.close();
    engine.docker(['stop', '-t', '10', 'plexlift']);
    expect(engine.docker(['inspect', '--format', '{{.State.ExitCode}}', 'plexlift']).trim()).toBe('0');
  }, 120_000);

  it('the compose file runs that image with the state, the config, the home Plex data and the Docker socket mounted, on the host network', () => {
    const compose = parse(readFileSync(new URL('../../docker/controller/compose.yaml', import.meta.url), 'utf8')) as {
      services: Record<string, { image: string; network_mode: string; restart: string; volumes: string[] }>;
    };
    const service = compose.services.plexlift!;
    expect(service).toMatchObject({ network_mode: 'host', restart: 'unless-stopped' });
    expect(service.image).toMatch(/^plexlift\/controller:\d+\.\d+\.\d+$/);
    expect(service.volumes.map((v) => v.split(':')[1])).toEqual(['/etc/plexlift', '/var/lib/plexlift', '/DATA/AppData/plex/config', '/var/run/docker.sock']);
  });

  it('carries the store info CasaOS and ZimaOS read: the app card, every volume, port and variable described, the dashboard as its web UI', () => {
    type Described = { container: string; description: { en_us: string } }[];
    const compose = parse(readFileSync(new URL('../../docker/controller/compose.yaml', import.meta.url), 'utf8')) as {
      name: string;
      services: Record<
        string,
        { volumes: string[]; environment: Record<string, string>; 'x-casaos': { envs: Described; ports: Described; volumes: Described } }
      >;
      'x-casaos': Record<string, unknown> & { main: string; title: { en_us: string } };
    };
    const store = compose['x-casaos'];
    expect(compose.name).toBe('plexlift');
    expect(store).toMatchObject({ main: 'plexlift', scheme: 'https', port_map: '7878', index: '/', category: 'Media', architectures: ['amd64', 'arm64'] });
    for (const key of ['title', 'tagline', 'description']) expect((store[key] as { en_us: string }).en_us.length).toBeGreaterThan(5);
    const service = compose.services[store.main]!;
    // Each of the service's volumes and variables has its line in the store info, and only those.
    expect(service['x-casaos'].volumes.map((v) => v.container)).toEqual(service.volumes.map((v) => v.split(':')[1]));
    expect(service['x-casaos'].envs.map((e) => e.container)).toEqual(Object.keys(service.environment));
    expect(service['x-casaos'].ports.map((p) => p.container)).toEqual([store.port_map]);
    for (const line of [...service['x-casaos'].volumes, ...service['x-casaos'].envs, ...service['x-casaos'].ports]) expect(line.description.en_us).not.toBe('');
    // The port is the daemon's default one (its dashboard), the config the image reads.
    expect(Number(store.port_map)).toBe(parseConfig({}, 'test').server.port);
    expect(service.environment.PLEXLIFT_CONFIG).toBe('/etc/plexlift/config.json');
  });
});
