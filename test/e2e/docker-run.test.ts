import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerProviderConfigSchema } from '@plexlift/shared';
import { createDockerProvider } from '../../packages/controller/src/providers/docker-provider.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildPlexSimImage } from '../plex-sim/image/build-plex-sim-image.js';
import { buildAgentImage } from '../utils/local-images.js';
import { startDockerSandbox, type DockerEngine, type DockerSandbox } from '../utils/docker-engine.js';
import { freePort } from '../utils/free-port.js';
import { runCli } from '../utils/run-cli.js';
import { readStatsOf } from '../utils/sqlite-files.js';
import { prepare, serve } from './plexlift-fixture.js';

const VERSION = '1.43.2.10687-563d026ea';

describe('plexlift run with the docker provider: the agent in a container drives Plex in another (a real Docker engine)', () => {
  let engine: DockerEngine;
  let sandbox: DockerSandbox | undefined;

  beforeAll(async () => {
    sandbox = await startDockerSandbox('plexlift-docker-run-');
    ({ engine } = sandbox);
    // The plex-sim image under the official image's name and the home's version; the agent's
    // image from the repository's Dockerfile.
    await buildPlexSimImage(engine, `plexinc/pms-docker:${VERSION}`);
    buildAgentImage(engine, 'plexlift/agent:test');
  }, 300_000);

  afterAll(async () => {
    await sandbox?.close();
  });

  it("a delta job completes, the CPU samples follow Plex's container during the scan, and no container is left", { timeout: 240_000 }, async () => {
    const fixture = await prepare({ daemon: false });
    const plexPort = await freePort();
    const config = JSON.parse(readFileSync(fixture.configPath, 'utf8')) as Record<string, unknown>;
    config.provider = 'docker';
    config.providers = {
      docker: {
        image: 'plexlift/agent:test',
        socketPath: engine.socket,
        plexUrl: `http://127.0.0.1:${plexPort}`,
        // The double's knobs; real Plex needs none. Real CPU burnt per item so the monitor sees a scan.
        plexEnv: { PLEX_SIM_PORT: String(plexPort), PLEX_TV_URL: fixture.tv.url, PLEX_SIM_KNOBS: JSON.stringify({ speed: 200, cpuMsPerItem: 30_000 }) },
        tuningFile: join(fixture.dir, 'tuning.json'),
      },
    };
    writeFileSync(fixture.configPath, JSON.stringify(config, null, 2));
    const daemon = await serve(fixture.configPath);

    const running = runCli(['run', '--mode', 'delta', '--wait', '--config', fixture.configPath], { timeoutMs: 200_000 });
    // The agent's container, while it runs: its job's socket proxy in place of the engine's socket.
    const agent = await vi.waitFor(
      () => {
        const id = engine.docker(['ps', '-q', '--filter', 'label=org.plexlift.job']).trim();
        expect(id).not.toBe('');
        return JSON.parse(engine.docker(['inspect', id]))[0] as {
          Config: { Env: string[] };
          HostConfig: { Binds: string[]; SecurityOpt: string[]; CapAdd: string[] };
        };
      },
      { timeout: 60_000, interval: 200 },
    );
    expect(agent.HostConfig.Binds.join('\n')).not.toContain(engine.socket);
    expect(agent.HostConfig.Binds).toContainEqual(expect.stringMatching(/\/docker-sockets\/[^/:]+:\/run\/plexlift-docker:ro$/));
    expect(agent.Config.Env).toContain('DOCKER_SOCKET=/run/plexlift-docker/docker.sock');
    // Plex's folders are bound on their own, never beneath another folder the agent can write:
    // it cannot swap one for a link between the proxy's check and the engine's bind.
    const sources = agent.HostConfig.Binds.map((bind) => bind.split(':')[0]!);
    const plexFolders = sources.filter((source) => /\/plex-data\/[^/]+\/(plex|transcode)$/.test(source));
    expect(plexFolders).toHaveLength(2);
    for (const folder of plexFolders) expect(sources.filter((source) => folder.startsWith(`${source}/`))).toEqual([]);
    // This engine has no AppArmor: nothing to lift; privileges never grow past the container's.
    expect(agent.HostConfig.SecurityOpt).toEqual(['no-new-privileges:true']);
    const run = await running;
    const containers = () => engine.docker(['ps', '-a', '--format', '{{.Names}} {{.Image}} {{.Status}}']).trim();
    const agentLogs = () => {
      const dir = join(fixture.dir, 'state', 'agents', 'logs');
      return existsSync(dir)
        ? readdirSync(dir)
            .map((f) => readFileSync(join(dir, f), 'utf8'))
            .join('\n')
        : '';
    };
    expect(run.status, `${run.stderr}\n${daemon.log()}\n${containers()}\n${agentLogs()}`).toBe(0);
    expect(run.stdout).toMatch(/Movies +4 → 6 \(\+2\)/);
    expect(readStatsOf(fixture.home.paths.mainDb).library.sections.find((s) => s.title === 'Movies')?.counts.movie).toBe(6);
    // Torn down: neither the agent's container nor Plex's is left.
    expect(containers()).toBe('');
    const doctor = await runCli(['doctor', '--config', fixture.configPath]);
    expect(doctor.stdout).toMatch(/^ok {3}provider docker: agent image plexlift\/agent:test; Plex from plexinc\/pms-docker at the home's version$/m);

    // The samples the agent sent were of Plex's container: near zero at rest, up during the scan.
    const log = await runCli([
      'logs',
      (JSON.parse((await runCli(['jobs', '--json', '--config', fixture.configPath])).stdout) as { id: string }[])[0]!.id,
      '--cpu',
      '--json',
      '--config',
      fixture.configPath,
    ]);
    const entries = log.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: { type: string; percent?: number; phase?: string; summary?: Record<string, unknown>; message?: string } });
    const samples = entries.filter((e) => e.event.type === 'cpu:sample').map((e) => e.event.percent!);
    expect(samples.length).toBeGreaterThan(3);
    expect(Math.max(...samples)).toBeGreaterThan(10);
    expect(Math.min(...samples)).toBeLessThan(5);
    // The WAL was folded in by Plex SQLite run in Plex's image, and what Plex printed is in the job's log.
    const stopped = entries.find((e) => e.event.type === 'phase:complete' && e.event.phase === 'plex-stop');
    expect(stopped?.event.summary).toMatchObject({ clean: true, checkpoint: expect.stringMatching(/^Plex SQLite in plexinc\/pms-docker:1\.43\.2/) as unknown });
    expect(entries.find((e) => e.event.type === 'log' && e.event.message?.startsWith("Plex's console output"))?.event.message).toMatch(/^listening /m);
  });

  it("the agent's container reaches only its job's socket proxy, which a restarted daemon reopens and the teardown closes", { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plexlift-docker-proxy-'));
    const config = DockerProviderConfigSchema.parse({ image: 'plexlift/agent:test', socketPath: engine.socket });
    const jobId = 'job-proxy-0001';
    const socket = join(dir, 'agents', 'docker-sockets', jobId, 'docker.sock');
    // Nothing listens at that address: the agent keeps trying to call home meanwhile.
    const resource = await createDockerProvider({ config, workRoot: join(dir, 'agents') }).provision({
      jobId,
      controllerUrl: 'http://127.0.0.1:9',
      bootstrapToken: 'plx_b_boot',
      record: () => undefined,
    });
    // Run without blocking: the proxy answers from this process.
    const dockerInAgent = (args: string[]) => ['docker', '-H', 'unix:///run/plexlift-docker/docker.sock', ...args];
    const inAgent = (args: string[]) =>
      new Promise<{ status: number | null; output: string }>((resolve) => {
        const child = spawn('docker', ['-H', `unix://${engine.socket}`, 'exec', `plexlift-agent-${jobId}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.on('close', (status) => resolve({ status, output }));
      });
    try {
      expect(await inAgent(dockerInAgent(['version', '--format', '{{.Server.Version}}']))).toMatchObject({ status: 0 });
      expect((await inAgent(dockerInAgent(['ps']))).output).toMatch(/plexlift's Docker proxy refused: GET \/containers\/json/);
      expect((await inAgent(dockerInAgent(['run', '--rm', '--name', `plexlift-plex-${jobId}`, '-v', '/:/host', 'plexlift/agent:test']))).output).toMatch(
        /refused: the field Image/,
      );
      expect((await inAgent(['ls', '/var/run/docker.sock'])).status).not.toBe(0);

      // A daemon that stopped leaves no one behind the socket; the next one's watch reopens it.
      rmSync(socket);
      expect((await inAgent(dockerInAgent(['version']))).status).not.toBe(0);
      const restarted = createDockerProvider({ config, workRoot: join(dir, 'agents') });
      expect((await restarted.status(resource)).exists).toBe(true);
      expect(statSync(socket).mode & 0o777).toBe(0o600);
      expect(await inAgent(dockerInAgent(['version', '--format', '{{.Server.Version}}']))).toMatchObject({ status: 0 });

      // Not connected, the agent has nothing to stop gracefully: killed rather than waited for.
      engine.docker(['kill', `plexlift-agent-${jobId}`]);
      await restarted.teardown(resource, { keep: false });
      expect(existsSync(socket)).toBe(false);
      expect(engine.docker(['ps', '-aq']).trim()).toBe('');
    } finally {
      engine.docker(['rm', '-f', `plexlift-agent-${jobId}`]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
