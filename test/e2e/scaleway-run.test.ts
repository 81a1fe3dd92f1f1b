import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseConfig } from '@plexlift/shared';
import { Journal } from '../../packages/agent/src/home/journal.js';
import { createScalewayProvider } from '../../packages/controller/src/providers/scaleway/scaleway-provider.js';
import { HomeConnection } from '../../packages/agent/src/home/connection.js';
import { startScalewaySim } from '../scaleway-sim/scaleway-sim.js';
import { cloudInitBoot } from '../scaleway-sim/vm-boot.js';
import { plexSimCommand } from '../utils/local-plex.js';
import { runCli } from '../utils/run-cli.js';
import { readStatsOf } from '../utils/sqlite-files.js';
import { createTempDir } from '../utils/temp-dir.js';
import { prepare, serve } from './plexlift-fixture.js';

/** The local-provider fixture, switched to the scaleway provider against the API double whose VMs boot from their user data. */
async function prepareScaleway(options: { scaleway?: Record<string, unknown>; bootGate?: Promise<void> } = {}) {
  const fixture = await prepare({ daemon: false });
  const booted: Parameters<typeof cloudInitBoot>[0]['booted'] = [];
  const boot = cloudInitBoot({ root: createTempDir('vms-'), extraAgentArgs: ['--tuning', join(fixture.dir, 'tuning.json')], booted });
  // A gate holds the guest's boot: the API says running while no agent has called yet.
  const sim = await startScalewaySim({ timeScale: 0.01, boot: async (server, userData) => (await options.bootGate, boot(server, userData)) });
  onTestFinished(() => sim.close());
  const config = JSON.parse(readFileSync(fixture.configPath, 'utf8')) as Record<string, Record<string, unknown>>;
  config.server!.publicUrl = `https://127.0.0.1:${String(config.server!.port)}`;
  config.server!.agentConnectTimeoutSeconds = 60;
  config.provider = 'scaleway' as never;
  config.providers = {
    scaleway: { apiUrl: sim.url, plexCommand: plexSimCommand(join(fixture.dir, 'knobs.json'), fixture.tv.url), bootTimeoutSeconds: 60, ...options.scaleway },
  };
  writeFileSync(fixture.configPath, JSON.stringify(config, null, 2));
  const daemon = await serve(fixture.configPath);
  return { ...fixture, sim, daemon, booted };
}

describe('plexlift run with the scaleway provider (API double, VM booted from its cloud-init)', () => {
  it(
    'creates the VM, the agent comes up from the rendered user data, the job completes, and the server, volumes and IPs are deleted',
    { timeout: 240_000 },
    async () => {
      const { home, sim, daemon, booted, configPath } = await prepareScaleway();
      const run = await runCli(['run', '--mode', 'delta', '--wait', '--config', configPath], { timeoutMs: 180_000 });
      const vmLogs = () => booted.map((vm) => readFileSync(join(vm.root, 'cloud-init-output.log'), 'utf8')).join('\n');
      expect(run.status, `${run.stderr}\n${daemon.log()}\n${sim.bootErrors.join('\n')}\n${vmLogs()}`).toBe(0);
      expect(run.stdout).toMatch(/Movies +4 → 6 \(\+2\)/);
      expect(readStatsOf(home.paths.mainDb).library.sections.find((s) => s.title === 'Movies')?.counts.movie).toBe(6);
      // The VM ran the agent the controller served (its Node, its bundle), not this checkout.
      expect(booted).toHaveLength(1);
      const vm = booted[0]!;
      expect(readdirSync(join(vm.root, 'opt', 'plexlift')).sort()).toEqual(['agent', 'bin', 'package.json']);
      expect(vmLogs()).toMatch(/job job-[\w-]+: done \(/);
      // Everything the job made is gone: billing has stopped.
      expect({ servers: sim.servers(), volumes: sim.volumes(), ips: sim.ips() }).toEqual({ servers: [], volumes: [], ips: [] });
      const jobs = JSON.parse((await runCli(['jobs', '--json', '--config', configPath])).stdout) as {
        state: string;
        report: { cost: number; hours: number };
      }[];
      expect(jobs[0]?.state).toBe('done');
      expect(jobs[0]?.report.cost).toBeGreaterThanOrEqual(0);

      // The bootstrap token in the user data was spent by the agent's hello: refused now, for the
      // socket (closed with 4401) and for the bundle.
      const env = readFileSync(join(vm.root, 'etc', 'plexlift', 'agent.env'), 'utf8');
      const token = /^PLEXLIFT_AGENT_TOKEN='(.+)'$/m.exec(env)![1]!;
      const fingerprint = /^PLEXLIFT_FINGERPRINT='(.+)'$/m.exec(env)![1]!;
      const url = /^PLEXLIFT_CONTROLLER_URL='(.+)'$/m.exec(env)![1]!;
      // The one-time token lives in the VM's root-only env file and nowhere else: not in the
      // daemon's log, the CLI's output, the VM's boot log, or the request log of the API.
      const apiTraffic = sim.requests
        .filter((r) => !r.path.endsWith('/user_data/cloud-init'))
        .map((r) => `${r.path} ${r.body}`)
        .join('\n');
      for (const text of [daemon.log(), run.stdout, run.stderr, vmLogs(), apiTraffic]) expect(text.includes(token)).toBe(false);
      const journal = new Journal(join(createTempDir(), 'j.db'), 'replay');
      const replay = new HomeConnection({
        url: url.replace(/^http/, 'ws'),
        fingerprint,
        jobId: 'replay',
        agentVersion: '0.1.0',
        token: () => token,
        journal,
        onCommand: () => undefined,
        retryDelayMs: () => 50,
      });
      await expect(replay.start()).rejects.toMatchObject({ code: 'AUTH_REFUSED' });
      const bundle = await replay.fetch(`${url}/agent/bundle?arch=x86_64`, { headers: { Authorization: `Bearer ${token}` } });
      expect(bundle.status).toBe(401);
      await replay.close();
      journal.close();
    },
  );

  it.each([
    // 0.2128 €/h (the recorded price of POP2-HC-8C-16G): 0.0003 € is reached in about 5 s.
    [
      'cost',
      { maxCost: 0.0003 },
      /stopped at 12 h or 0\.0003 € whatever happens/,
      /the job reached its cost cap of 0\.0003 € \([\d.]+ € at 0\.2128 €\/h\); its machine is deleted/,
    ],
    [
      'lifetime',
      { maxHours: 0.0015 },
      /stopped at 0\.0015 h or 10 € whatever happens/,
      /the job reached its lifetime cap of 0\.0015 h; its machine is deleted/,
    ],
  ])('the %s cap stops the job and deletes the VM, whatever the agent is doing', { timeout: 120_000 }, async (_cap, scaleway, estimate, stopped) => {
    const { sim, configPath } = await prepareScaleway({ scaleway });
    const run = await runCli(['run', '--mode', 'delta', '--wait', '--config', configPath], { timeoutMs: 100_000 });
    expect(run.stderr).toMatch(/started \(delta, provider scaleway; 0\.2128 €\/h, /);
    expect(run.stderr).toMatch(estimate);
    expect(run.status, run.stderr).toBe(6);
    expect(run.stderr).toMatch(stopped);
    expect({ servers: sim.servers(), volumes: sim.volumes(), ips: sim.ips() }).toEqual({ servers: [], volumes: [], ips: [] });
  });

  it(
    'the controller killed after creating the VM and before its agent called: the restarted one adopts the VM, the job completes, nothing is left',
    { timeout: 240_000 },
    async () => {
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      const { sim, daemon, configPath, home } = await prepareScaleway({ bootGate: gate });
      const running = runCli(['run', '--mode', 'delta', '--config', configPath]);
      expect((await running).status).toBe(0);
      await expect.poll(() => sim.servers().map((s) => s.state), { timeout: 30_000 }).toEqual(['running']);
      const [server] = sim.servers();
      await daemon.kill();
      const again = await serve(configPath);
      expect(again.log()).toMatch(/resuming job job-[\w-]+ \(provisioning, provision\)/);
      open();
      const watch = await runCli(['status', '--watch', '--config', configPath], { timeoutMs: 180_000 });
      expect(watch.status, `${watch.stderr}\n${again.log()}\n${sim.bootErrors.join('\n')}`).toBe(0);
      // The same machine: adopted, not replaced; then deleted with its volume.
      expect(sim.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/servers'))).toHaveLength(1);
      expect(sim.requests.some((r) => r.path.includes(server!.id) && r.path.endsWith('/action') && r.body.includes('terminate'))).toBe(true);
      expect({ servers: sim.servers(), volumes: sim.volumes(), ips: sim.ips() }).toEqual({ servers: [], volumes: [], ips: [] });
      expect(readStatsOf(home.paths.mainDb).library.sections.find((s) => s.title === 'Movies')?.counts.movie).toBe(6);
      // The inventory is empty, and a reap finds nothing.
      expect((await runCli(['vms', '--config', configPath])).stdout).toMatch(/^Nothing: no machine, volume or IP of plexlift exists\.$/m);
      expect((await runCli(['reap', '--dry-run', '--json', '--config', configPath])).stdout.trim()).toBe('[]');

      // A machine no job owns (a crash between a create and its record, another tool): listed as an
      // orphan with its age, marked by one reap and deleted by the next, volume included.
      const config = parseConfig({ providers: { scaleway: { apiUrl: sim.url, plexCommand: ['x'] } } }, 'test').providers.scaleway!;
      await createScalewayProvider({ config, env: {}, pollMs: 20 }).provision({
        jobId: 'job-ghost',
        controllerUrl: 'https://127.0.0.1:1',
        bootstrapToken: 'x',
        record: () => undefined,
      });
      const vms = await runCli(['vms', '--config', configPath]);
      expect(vms.stdout).toMatch(
        /^scaleway +job-ghost +\(unknown job\) +NO: orphan +\d+ min +server plexlift-job-ghost \([\w-]+\), 1 volume, 0 IPs in fr-par-1$/m,
      );
      expect((await runCli(['reap', '--config', configPath])).stdout).toMatch(/job-ghost +marked/);
      expect(sim.servers()).toHaveLength(1);
      expect((await runCli(['reap', '--config', configPath], { timeoutMs: 120_000 })).stdout).toMatch(/job-ghost +deleted/);
      expect({ servers: sim.servers(), volumes: sim.volumes() }).toEqual({ servers: [], volumes: [] });
    },
  );
});
