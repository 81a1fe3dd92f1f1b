import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { parseConfig } from '@plexlift/shared';
import { Journal } from '../../packages/agent/src/home/journal.js';
import { createScalewayProvider } from '../../packages/controller/src/providers/scaleway/scaleway-provider.js';
import { HomeConnection } from '../../packages/agent/src/home/connection.js';
import { SIM_KEYS, startScalewaySim } from '../scaleway-sim/scaleway-sim.js';
import { cloudInitBoot } from '../scaleway-sim/vm-boot.js';
import { plexSimCommand } from '../utils/local-plex.js';
import { runCli } from '../utils/run-cli.js';
import { readStatsOf } from '../utils/sqlite-files.js';
import { createTempDir } from '../utils/temp-dir.js';
import { startHttpReceiver } from '../utils/notify-receivers.js';
import { prepare, serve } from './plexlift-fixture.js';
import type { AgentEvent } from '@plexlift/shared/protocol';

/** The local-provider fixture, switched to the scaleway provider against the API double whose VMs boot from their user data. */
async function prepareScaleway(
  options: { scaleway?: Record<string, unknown>; bootGate?: Promise<void>; timeScale?: number; notify?: Record<string, unknown> } = {},
) {
  const fixture = await prepare({ daemon: false });
  const booted: Parameters<typeof cloudInitBoot>[0]['booted'] = [];
  const boot = cloudInitBoot({ root: createTempDir('vms-'), extraAgentArgs: ['--tuning', join(fixture.dir, 'tuning.json')], booted });
  // A gate holds the guest's boot: the API says running while no agent has called yet.
  const sim = await startScalewaySim({
    timeScale: options.timeScale ?? 0.01,
    boot: async (server, userData) => (await options.bootGate, boot(server, userData)),
  });
  onTestFinished(() => sim.close());
  const config = JSON.parse(readFileSync(fixture.configPath, 'utf8')) as Record<string, Record<string, unknown>>;
  config.server!.publicUrl = `https://127.0.0.1:${String(config.server!.port)}`;
  config.server!.agentConnectTimeoutSeconds = 60;
  config.provider = 'scaleway' as never;
  config.providers = {
    // Credentials as a user sets them (the double refuses any other key; the project is its own).
    scaleway: {
      apiUrl: sim.url,
      ...SIM_KEYS,
      projectId: '105bdce1-64c0-48ab-899d-868455867ecf',
      plexCommand: plexSimCommand(join(fixture.dir, 'knobs.json'), fixture.tv.url),
      bootTimeoutSeconds: 60,
      ...options.scaleway,
    },
  };
  if (options.notify) config.notify = options.notify;
  writeFileSync(fixture.configPath, JSON.stringify(config, null, 2));
  const daemon = await serve(fixture.configPath);
  return { ...fixture, sim, daemon, booted };
}

/** Everything a job made on the double: none of it may be left once the job ended. */
function leftovers(sim: Awaited<ReturnType<typeof startScalewaySim>>) {
  return { servers: sim.servers(), volumes: sim.volumes(), ips: sim.ips(), securityGroups: sim.securityGroups().filter((g) => !g.projectDefault) };
}

const NOTHING = { servers: [], volumes: [], ips: [], securityGroups: [] };

/** A job's stored events with their times (`plexlift logs --json`). */
async function eventsOf(configPath: string, jobId: string): Promise<{ at: number; event: AgentEvent }[]> {
  const logs = await runCli(['logs', jobId, '--json', '--config', configPath]);
  return logs.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { at: number; event: AgentEvent });
}

async function jobOf(configPath: string, jobId: string) {
  return (
    JSON.parse((await runCli(['status', jobId, '--json', '--config', configPath])).stdout) as {
      job: { state: string; createdAt: number; error?: { message: string } };
    }
  ).job;
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
      // The meter the dashboard shows: billed to the teardown at the server type's price, within the provider's caps, the bytes moved each way.
      const { job, meter } = JSON.parse((await runCli(['status', '--json', '--config', configPath])).stdout) as {
        job: { createdAt: number };
        meter: {
          hourlyPrice: number;
          hours: number;
          euros: number;
          budget: object;
          budgetEnds: { at: number; what: string };
          bytes: { restore: number; export: number };
        };
      };
      expect(meter).toMatchObject({ hourlyPrice: 0.2128, budget: { maxHours: expect.any(Number), maxCost: expect.any(Number) } });
      expect(meter.euros).toBeCloseTo(meter.hours * 0.2128, 6);
      expect(meter.hours).toBeGreaterThan(0);
      expect(meter.budgetEnds.at).toBeGreaterThan(job.createdAt);
      expect(meter.bytes.restore).toBeGreaterThan(10_000);
      expect(meter.bytes.export).toBeGreaterThan(10_000);

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
      const config = parseConfig({ providers: { scaleway: { apiUrl: sim.url, ...SIM_KEYS, plexCommand: ['x'] } } }, 'test').providers.scaleway!;
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
  it(
    'a VM that never boots: the cap acts at the cap, not at the boot timeout; the server is stopped as soon as Scaleway allows; the job ends failed once nothing is left',
    { timeout: 120_000 },
    async () => {
      // 0.002 h = 7.2 s, far shorter than the 60 s boot timeout.
      const webhook = await startHttpReceiver();
      const { sim, configPath, daemon } = await prepareScaleway({
        scaleway: { maxHours: 0.002, bootTimeoutSeconds: 60 },
        notify: { webhook: { url: webhook.url } },
      });
      sim.faults.neverBoot = true;
      const run = await runCli(['run', '--mode', 'delta', '--wait', '--json', '--config', configPath], { timeoutMs: 100_000 });
      expect(run.status, run.stderr).toBe(6);
      const jobId = (JSON.parse((await runCli(['jobs', '--json', '--config', configPath])).stdout) as { id: string }[])[0]!.id;
      const job = await jobOf(configPath, jobId);
      expect(job.state).toBe('failed');
      expect(job.error?.message).toMatch(/the job reached its lifetime cap of 0\.002 h/);
      const events = await eventsOf(configPath, jobId);
      const capped = events.find((e) => e.event.type === 'phase:fail' && e.event.phase === 'provision')!;
      // The cap acted at the cap (within 5 s), not at the boot timeout.
      expect((capped.at - job.createdAt) / 1000).toBeGreaterThanOrEqual(7.2 - 0.5);
      expect((capped.at - job.createdAt) / 1000).toBeLessThan(7.2 + 5);
      // The teardown said what it waited for, and stopped the server in place (a starting server accepts nothing else).
      expect(events.some((e) => e.event.type === 'phase:progress' && e.event.phase === 'teardown' && /starting/.test(e.event.message ?? ''))).toBe(true);
      expect(sim.requests.some((r) => r.path.endsWith('/action') && r.body.includes('stop_in_place'))).toBe(true);
      expect(leftovers(sim)).toEqual(NOTHING);
      // Billed from its creation to its deletion: never past the cap plus the deletion itself.
      const [billed] = sim.billing();
      expect(billed?.deletedAt).toBeDefined();
      expect((billed!.deletedAt! - billed!.createdAt) / 1000).toBeLessThan(7.2 + 5);
      // The daemon's log: the start, the cap, the phase it cut, the end with its time and cost, one line each.
      const log = daemon.log();
      expect(log).toMatch(new RegExp(`^info: job ${jobId}: started: a delta job on scaleway \\(every section\\), [\\d.]+ €/h$`, 'm'));
      expect(log).toMatch(new RegExp(`^warn: job ${jobId}: stopping: the job reached its lifetime cap of 0\\.002 h`, 'm'));
      expect(log).toMatch(new RegExp(`^warn: job ${jobId}: provision failed \\(SAFETY_STOP\\): the job reached its lifetime cap`, 'm'));
      // Told once each: the cap, then the failure; with no secret.
      await vi.waitFor(() => expect(webhook.received).toHaveLength(2));
      const told = webhook.received.map((r) => JSON.parse(r.body) as { event: string; jobId: string });
      expect(told.map((t) => [t.event, t.jobId])).toEqual([
        ['job:cap', jobId],
        ['job:failed', jobId],
      ]);
      for (const r of webhook.received) expect(r.body).not.toContain('7d3f1c52-0b8e-4a6f-9c1d-2e5b8a4f6c90');
      expect(log).toMatch(new RegExp(`^warn: job ${jobId}: ended failed in \\d+\\.\\d\\d h(, ≈ \\d+\\.\\d\\d €)?: SAFETY_STOP: `, 'm'));
    },
  );

  it('abort while the VM is booting acts within seconds, and the job ends aborted once nothing is left', { timeout: 120_000 }, async () => {
    const { sim, configPath, daemon } = await prepareScaleway({ scaleway: { bootTimeoutSeconds: 60 } });
    sim.faults.neverBoot = true;
    const started = await runCli(['run', '--mode', 'delta', '--json', '--config', configPath]);
    expect(started.status, started.stderr).toBe(0);
    const jobId = (JSON.parse(started.stdout) as { id: string }).id;
    await expect.poll(() => sim.servers().map((s) => s.state), { timeout: 30_000 }).toEqual(['starting']);
    const asked = Date.now();
    const aborting = runCli(['abort', jobId, '--config', configPath], { timeoutMs: 60_000 });
    // When the daemon took the order (the CLI's own start-up, a second or two here, is before it).
    await vi.waitFor(() => expect(daemon.log()).toMatch(new RegExp(`job ${jobId}: stopping: `)), { timeout: 30_000, interval: 10 });
    const received = Date.now();
    const abort = await aborting;
    expect(abort.status, abort.stderr).toBe(0);
    expect((Date.now() - asked) / 1000).toBeLessThan(10);
    const job = await jobOf(configPath, jobId);
    expect(job.state).toBe('aborted');
    expect(leftovers(sim)).toEqual(NOTHING);
    // The abort acted within 5 s of the command, as the cap does: the first order to stop or
    // delete the server reached the API by then.
    const [server] = sim.billing();
    const deleting = sim.requests.find(
      (r) => r.at >= asked && r.path.includes(server!.id) && (r.method === 'DELETE' || (r.method === 'POST' && r.path.endsWith('/action'))),
    );
    expect(deleting, sim.requests.map((r) => `${r.method} ${r.path} ${r.body}`).join('\n')).toBeDefined();
    expect((deleting!.at - asked) / 1000).toBeLessThan(5);
    // Billed from its creation to its deletion: never past the abort plus the deletion itself
    // (a stop in place, then the teardown's next poll, 3 s, sees it stopped and deletes it).
    expect(server!.deletedAt).toBeDefined();
    expect((server!.deletedAt! - received) / 1000).toBeLessThan(5);
  });

  it(
    'SIGTERM during the boot and during a teardown: the daemon exits within 10 s; restarted, the job goes on and ends as it would have',
    { timeout: 240_000 },
    async () => {
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      // Real timings (the recorded ones): a stop in place takes seconds, long enough to be cut.
      const { sim, daemon, configPath, home } = await prepareScaleway({ bootGate: gate, timeScale: 1, scaleway: { bootTimeoutSeconds: 60 } });
      const first = await runCli(['run', '--mode', 'delta', '--json', '--config', configPath]);
      const jobId = (JSON.parse(first.stdout) as { id: string }).id;
      await expect.poll(() => sim.servers().map((s) => s.state), { timeout: 30_000 }).toEqual(['starting']);
      let begun = performance.now();
      await daemon.stop();
      expect((performance.now() - begun) / 1000, daemon.log()).toBeLessThan(10);
      expect(daemon.log()).not.toMatch(/not stopped within|exiting now/);
      expect(daemon.log()).toMatch(new RegExp(`job ${jobId} left provisioning`));
      // Restarted: the same machine goes on booting, its agent calls, the job completes.
      const again = await serve(configPath);
      open();
      const watching = runCli(['status', jobId, '--watch', '--config', configPath], { timeoutMs: 180_000 });
      // Its archive verified while its machine is deleted: the job installs by itself after, so an install asked now is refused.
      await expect
        .poll(async () => (await jobOf(configPath, jobId)) as { state: string; phase?: string }, { timeout: 120_000, interval: 200 })
        .toMatchObject({ state: 'verified', phase: 'teardown' });
      expect(await runCli(['install', jobId, '--config', configPath])).toMatchObject({
        status: 2,
        stderr: expect.stringMatching(
          /is not waiting for an install: it is still under way \(verified, teardown\) and installs by itself when its machine is deleted/,
        ),
      });
      const watched = await watching;
      expect(watched.status, `${watched.stderr}\n${again.log()}`).toBe(0);
      expect((await jobOf(configPath, jobId)).state).toBe('done');
      expect(sim.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/servers'))).toHaveLength(1);
      expect(readStatsOf(home.paths.mainDb).library.sections.find((s) => s.title === 'Movies')?.counts.movie).toBe(6);
      expect(leftovers(sim)).toEqual(NOTHING);

      // A second job whose VM never boots, aborted: SIGTERM while its teardown waits for the stop in place.
      sim.faults.neverBoot = true;
      const second = await runCli(['run', '--mode', 'delta', '--json', '--config', configPath]);
      const secondId = (JSON.parse(second.stdout) as { id: string }).id;
      await expect.poll(() => sim.servers().map((s) => s.state), { timeout: 30_000 }).toEqual(['starting']);
      void runCli(['abort', secondId, '--config', configPath], { timeoutMs: 60_000 });
      await expect.poll(async () => (await jobOf(configPath, secondId)).state, { timeout: 30_000 }).toBe('tearing-down');
      const status = await runCli(['status', secondId, '--config', configPath]);
      expect(status.stdout).toMatch(/its machine is being deleted/);
      begun = performance.now();
      await again.stop();
      expect((performance.now() - begun) / 1000, again.log()).toBeLessThan(10);
      expect(again.log()).not.toMatch(/not stopped within|exiting now/);
      expect(again.log()).toMatch(new RegExp(`job ${secondId} left tearing-down`));
      const third = await serve(configPath);
      await expect.poll(async () => (await jobOf(configPath, secondId)).state, { timeout: 90_000, interval: 500 }).toBe('aborted');
      expect(third.log()).toMatch(new RegExp(`resuming job ${secondId} \\(tearing-down`));
      expect(leftovers(sim)).toEqual(NOTHING);
    },
  );

  it(
    'the Block API refusing to tag the root volume: the job goes on, its log says so, and the reaper finds the volume through its server',
    { timeout: 240_000 },
    async () => {
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      const { sim, configPath, daemon } = await prepareScaleway({ bootGate: gate });
      sim.faults.volumeUpdateRefused = 405;
      const started = await runCli(['run', '--mode', 'delta', '--json', '--config', configPath]);
      expect(started.status, started.stderr).toBe(0);
      const jobId = (JSON.parse(started.stdout) as { id: string }).id;
      await expect.poll(() => sim.servers().map((s) => s.state), { timeout: 30_000 }).toEqual(['running']);
      // The untagged volume is listed under the job, through its server.
      const vms = JSON.parse((await runCli(['vms', '--json', '--config', configPath])).stdout) as { jobId: string; resource: { volumeIds: string[] } }[];
      expect(vms.find((v) => v.jobId === jobId)?.resource.volumeIds).toEqual(sim.volumes().map((v) => v.id));
      open();
      const watched = await runCli(['status', jobId, '--watch', '--config', configPath], { timeoutMs: 180_000 });
      expect(watched.status, `${watched.stderr}\n${daemon.log()}`).toBe(0);
      const said = (await eventsOf(configPath, jobId)).filter((e) => e.event.type === 'log').map((e) => (e.event as { message: string }).message);
      expect(said.join('\n')).toMatch(/untagged/);
      expect(leftovers(sim)).toEqual(NOTHING);
    },
  );
});
