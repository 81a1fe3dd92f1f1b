import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { parseConfig, PlexliftError } from '@plexlift/shared';
import type { ProviderResource } from '../../packages/controller/src/providers/provider.js';
import { createScalewayProvider } from '../../packages/controller/src/providers/scaleway/scaleway-provider.js';
import { deleteSecurityGroup } from '../../packages/controller/src/providers/scaleway/scaleway-security-group.js';
import type { ScalewayResource } from '../../packages/controller/src/providers/scaleway/scaleway-resource.js';
import { SIM_KEYS, startScalewaySim, type ScalewaySim } from '../scaleway-sim/scaleway-sim.js';

async function setup(overrides: Record<string, unknown> = {}, { timeScale = 0.01, teardownTimeoutMs = 20_000 } = {}) {
  const sim = await startScalewaySim({ timeScale });
  onTestFinished(() => sim.close());
  const config = parseConfig({ providers: { scaleway: { apiUrl: sim.url, ...SIM_KEYS, plexCommand: ['/usr/bin/plex'], ...overrides } } }, 'test').providers
    .scaleway!;
  const provider = createScalewayProvider({ config, env: {}, pollMs: 20, retry: { attempts: 5, baseMs: 10 }, teardownTimeoutMs });
  const recorded: ProviderResource[] = [];
  const logged: string[] = [];
  const request = (jobId = 'job-2026-11-21-abcdef', signal?: AbortSignal) => ({
    jobId,
    controllerUrl: 'https://203.0.113.7:7878',
    controllerTls: { fingerprint: 'AB:'.repeat(31) + 'AB', publicKeyPin: 'cGlu' },
    bootstrapToken: 'plx_b_one-time-token',
    record: (resource: ProviderResource) => recorded.push(structuredClone(resource)),
    log: (level: 'info' | 'warn', message: string) => logged.push(`${level}: ${message}`),
    ...(signal ? { signal } : {}),
  });
  return { sim, provider, recorded, request, logged };
}

/** A signal that aborts after `ms` with `reason`. */
function abortAfter(ms: number, reason: Error): AbortSignal {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(reason), ms);
  onTestFinished(() => clearTimeout(timer));
  return controller.signal;
}

const actionsOf = (sim: ScalewaySim) =>
  sim.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/action')).map((r) => (JSON.parse(r.body) as { action: string }).action);

function leftovers(sim: ScalewaySim) {
  // The project's default security group is the API's, not a job's.
  const securityGroups = sim.securityGroups().filter((g) => !g.projectDefault).length;
  return { servers: sim.servers().length, volumes: sim.volumes().length, ips: sim.ips().length, securityGroups };
}

describe('the scaleway provider against the API double', () => {
  it('records the machine before it exists, sets cloud-init before power-on, and a teardown leaves nothing (the SBS root volume included)', async () => {
    const { sim, provider, recorded, request } = await setup();
    const resource = (await provider.provision(request())) as ScalewayResource;
    // The first record has no server id: written before the create.
    expect(recorded[0]).toMatchObject({ jobId: 'job-2026-11-21-abcdef', name: 'plexlift-job-2026-11-21-abcdef', volumeIds: [] });
    expect(recorded[0]).not.toHaveProperty('serverId');
    expect(resource.serverId).toBeDefined();
    expect(resource.hourlyPrice).toBe(0.2128); // POP2-HC-8C-16G in the recorded catalogue
    expect(sim.servers()).toEqual([
      expect.objectContaining({
        name: 'plexlift-job-2026-11-21-abcdef',
        state: 'running',
        tags: ['plexlift', 'plexlift-job=job-2026-11-21-abcdef'],
        commercialType: 'POP2-HC-8C-16G',
      }),
    ]);
    const order = sim.requests.map((r) => `${r.method} ${r.path.replace(/[0-9a-f-]{36}/g, 'ID')}`);
    const userData = order.indexOf('PATCH /instance/v1/zones/fr-par-1/servers/ID/user_data/cloud-init');
    const powerOn = order.indexOf('POST /instance/v1/zones/fr-par-1/servers/ID/action');
    expect(userData).toBeGreaterThan(order.indexOf('POST /instance/v1/zones/fr-par-1/servers'));
    expect(powerOn).toBeGreaterThan(userData);
    expect(sim.requests.find((r) => r.path.endsWith('/user_data/cloud-init'))).toMatchObject({
      contentType: 'text/plain',
      body: expect.stringMatching(/^#cloud-config\n/),
    });
    expect(JSON.parse(sim.requests.find((r) => r.method === 'POST' && r.path.endsWith('/servers'))!.body)).toMatchObject({
      volumes: { '0': { size: 50_000_000_000, volume_type: 'sbs_volume' } },
      dynamic_ip_required: true,
      protected: false,
    });
    expect((await provider.status(resource)).exists).toBe(true);

    await provider.teardown(resource, { keep: false });
    expect(leftovers(sim)).toEqual({ servers: 0, volumes: 0, ips: 0, securityGroups: 0 });
    expect((await provider.status(resource)).exists).toBe(false);
    // Terminate (it was running), then the volume deleted through Block once available.
    expect(sim.requests.filter((r) => r.path.endsWith('/action')).map((r) => (JSON.parse(r.body) as { action: string }).action)).toEqual([
      'poweron',
      'terminate',
    ]);
    expect(sim.requests.some((r) => r.method === 'DELETE' && r.path.startsWith('/block/v1/'))).toBe(true);
    // Again: nothing to do, no error.
    await provider.teardown(resource, { keep: false });
  });

  it.each([
    ['a quota', { quotaExceeded: true }, /quota exceeded for instances_pop2_hc_8c_16g \(quota 0, in use 0\); ask Scaleway for a higher quota/],
    [
      'an out-of-stock type',
      { outOfStock: ['POP2-HC-8C-16G'] },
      /POP2-HC-8C-16G is out of stock in this zone; try another providers\.scaleway\.commercialType or providers\.scaleway\.zone/,
    ],
  ])('%s: a clear message, no retry, no orphan', async (_name, faults, message) => {
    const { sim, provider, recorded, request } = await setup();
    Object.assign(sim.faults, faults);
    const error = await provider.provision(request()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlexliftError);
    expect((error as PlexliftError).code).toBe('CLOUD_ERROR');
    expect((error as PlexliftError).message).toMatch(message);
    expect(sim.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/servers'))).toHaveLength(1);
    // What was recorded is enough for a teardown that finds nothing to delete.
    await provider.teardown(recorded.at(-1)!, { keep: false });
    expect(leftovers(sim)).toEqual({ servers: 0, volumes: 0, ips: 0, securityGroups: 0 });
  });

  it('bursts of 5xx are retried; a create whose answer was lost is adopted, not doubled', async () => {
    const { sim, provider, request } = await setup();
    sim.faults.gatewayErrors = 3;
    sim.faults.createdThenFailed = 1;
    const resource = (await provider.provision(request())) as ScalewayResource;
    expect(sim.servers()).toHaveLength(1);
    expect(sim.servers()[0]!.id).toBe(resource.serverId);
    expect(sim.requests.filter((r) => r.status === 503)).toHaveLength(3);
    await provider.teardown(resource, { keep: false });
    expect(leftovers(sim)).toEqual({ servers: 0, volumes: 0, ips: 0, securityGroups: 0 });
  });

  it('an outage longer than the retries: the error says what failed and how often it was tried', async () => {
    const { sim, provider, request } = await setup();
    sim.faults.gatewayErrors = 100;
    await expect(provider.provision(request())).rejects.toThrow(/Scaleway: read the Instance catalogue: HTTP 503 503 Service Unavailable \(after 5 attempts\)/);
    sim.faults.gatewayErrors = 0;
    expect(leftovers(sim)).toEqual({ servers: 0, volumes: 0, ips: 0, securityGroups: 0 });
  });

  it('a stopped server is deleted (terminate needs running), and list() finds servers and volumes left without one', async () => {
    const { sim, provider, request } = await setup();
    const first = (await provider.provision(request('job-a'))) as ScalewayResource;
    const second = (await provider.provision(request('job-b'))) as ScalewayResource;
    await provider.apis.instance.serverAction({ zone: 'fr-par-1', serverId: second.serverId!, action: 'poweroff' });
    const found = await provider.list();
    expect(found.map((f) => f.jobId).sort()).toEqual(['job-a', 'job-b']);
    expect(found.find((f) => f.jobId === 'job-a')!.resource).toMatchObject({ serverId: first.serverId, volumeIds: first.volumeIds });
    // A server gone with its volume left behind (the API keeps SBS volumes): still listed, by its tag.
    await provider.teardown(second, { keep: false });
    expect(sim.requests.filter((r) => r.method === 'DELETE' && r.path.includes('/instance/v1/zones/fr-par-1/servers/'))).toHaveLength(1);
    await provider.apis.instance.serverAction({ zone: 'fr-par-1', serverId: first.serverId!, action: 'terminate' });
    await expect.poll(() => sim.servers().length, { timeout: 5_000 }).toBe(0);
    const orphans = await provider.list();
    expect(orphans).toEqual([{ jobId: 'job-a', resource: expect.objectContaining({ volumeIds: first.volumeIds }) }]);
    expect(orphans[0]!.resource).not.toHaveProperty('serverId');
    await provider.teardown(orphans[0]!.resource, { keep: false });
    expect(leftovers(sim)).toEqual({ servers: 0, volumes: 0, ips: 0, securityGroups: 0 });
  });

  it('each server is born behind its own security group that lets nothing in; the teardown deletes the group once the server is gone', async () => {
    const { sim, provider, recorded, request } = await setup();
    const resource = (await provider.provision(request('job-fw'))) as ScalewayResource;
    const [server] = sim.servers();
    const group = sim.securityGroups().find((g) => g.id === server!.securityGroupId)!;
    expect(group).toMatchObject({
      id: resource.securityGroupId,
      name: 'plexlift-job-fw',
      tags: ['plexlift', 'plexlift-job=job-fw'],
      inboundDefaultPolicy: 'drop',
      outboundDefaultPolicy: 'accept',
      stateful: true,
      projectDefault: false,
      servers: [server!.id],
    });
    // Recorded before the server exists, so a crash in between leaves a trace to reap.
    const createServerAt = sim.requests.findIndex((r) => r.method === 'POST' && r.path.endsWith('/servers'));
    expect(sim.requests.findIndex((r) => r.method === 'POST' && r.path.endsWith('/security_groups'))).toBeLessThan(createServerAt);
    expect(recorded.find((r) => (r as ScalewayResource).securityGroupId && !(r as ScalewayResource).serverId)).toBeDefined();

    await provider.teardown(resource, { keep: false });
    expect(leftovers(sim)).toEqual({ servers: 0, volumes: 0, ips: 0, securityGroups: 0 });
    // Deleted after the server's 404, so never refused as in use.
    const deletes = sim.requests.filter((r) => r.method === 'DELETE' && r.path.includes('/security_groups/'));
    expect(deletes.map((r) => r.status)).toEqual([204]);
  });

  it('a security group still used by a terminating server is asked again until the server is gone', async () => {
    const { sim, provider, request } = await setup();
    const resource = (await provider.provision(request('job-busy'))) as ScalewayResource;
    const config = parseConfig({ providers: { scaleway: { apiUrl: sim.url, plexCommand: ['/usr/bin/plex'] } } }, 'test').providers.scaleway!;
    const context = { apis: provider.apis, config, zone: 'fr-par-1', retry: { attempts: 2, baseMs: 10 }, pollMs: 20 };
    await provider.apis.instance.serverAction({ zone: 'fr-par-1', serverId: resource.serverId!, action: 'terminate' });
    await deleteSecurityGroup(context, resource.securityGroupId!, Date.now() + 10_000);
    const answers = sim.requests.filter((r) => r.method === 'DELETE' && r.path.includes('/security_groups/')).map((r) => r.status);
    expect(answers[0]).toBe(409);
    expect(answers.at(-1)).toBe(204);
    expect(sim.securityGroups().filter((g) => !g.projectDefault)).toEqual([]);
    // Within a deadline: a group that stays in use is an error that says so.
    const other = (await provider.provision(request('job-stuck'))) as ScalewayResource;
    await expect(deleteSecurityGroup(context, other.securityGroupId!, Date.now() + 100)).rejects.toThrow(
      /security group [\w-]+ still in use by a server after the teardown's wait; left to the orphan reaper \(plexlift vms\)/,
    );
  });

  it('a security group left without a server (a daemon that died between the two creates) is listed and torn down', async () => {
    const { sim, provider, recorded, request } = await setup();
    sim.faults.quotaExceeded = true;
    await expect(provider.provision(request('job-crashed'))).rejects.toThrow(/quota exceeded/);
    expect(sim.servers()).toEqual([]);
    const found = await provider.list();
    expect(found).toEqual([
      { jobId: 'job-crashed', resource: expect.objectContaining({ securityGroupId: (recorded.at(-1) as ScalewayResource).securityGroupId }) },
    ]);
    expect(provider.describe(found[0]!.resource)).toMatch(/^no server, security group [\w-]+, 0 volumes, 0 IPs in fr-par-1$/);
    await provider.teardown(found[0]!.resource, { keep: false });
    expect(leftovers(sim)).toEqual({ servers: 0, volumes: 0, ips: 0, securityGroups: 0 });
  });

  it('config mistakes are named before anything is created', async () => {
    const { sim, provider, request } = await setup({ image: 'no_such_os' });
    await expect(provider.provision(request())).rejects.toThrow(/providers\.scaleway\.image: no image labelled no_such_os in the marketplace/);
    const arm = await setup({ commercialType: 'BASIC2-A2C-4G' });
    await expect(arm.provider.provision(arm.request())).rejects.toThrow(
      /providers\.scaleway\.commercialType: BASIC2-A2C-4G is arm64 and this controller is x86_64; the VM runs the controller's own Node/,
    );
    const unknown = await setup({ commercialType: 'NOPE-1' });
    await expect(unknown.provider.provision(unknown.request())).rejects.toThrow(/NOPE-1 is not in the fr-par-1 catalogue/);
    expect(() => parseConfig({ providers: { scaleway: { zone: 'paris', secretKey: 'not-a-uuid' } } }, 'test')).toThrow(
      /providers\.scaleway\.zone: must be a Scaleway zone such as fr-par-1; providers\.scaleway\.secretKey: must be a Scaleway secret key/,
    );
    expect(sim.servers()).toEqual([]);
    expect(unknown.sim.servers()).toEqual([]);
  });

  it('a key the API refuses (its recorded 401) is a config error naming the field, and nothing is created', async () => {
    const { sim, provider, request } = await setup({ secretKey: '11111111-2222-4333-8444-555555555555' });
    await expect(provider.provision(request())).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(/the API refused the credentials \(authentication is denied\); check providers\.scaleway\.secretKey/),
    });
    expect(sim.requests.every((r) => r.status === 401)).toBe(true);
    expect(sim.servers()).toEqual([]);
    // A secret key alone is never sent by the SDK (it needs its access key): said before any call.
    const alone = parseConfig({ providers: { scaleway: { apiUrl: sim.url, secretKey: SIM_KEYS.secretKey, plexCommand: ['x'] } } }, 'test').providers.scaleway!;
    expect(() => createScalewayProvider({ config: alone, env: {} })).toThrow(/^providers\.scaleway\.accessKey: missing; .*set accessKey or SCW_ACCESS_KEY$/);
  });

  it('takes its credentials and API address from the standard SCW_* variables when the config has none', async () => {
    // Only the variables' key is taken: the double refuses any other.
    const sim = await startScalewaySim({ timeScale: 0.01, secretKey: '11111111-2222-4333-8444-555555555555' });
    onTestFinished(() => sim.close());
    const config = parseConfig({ providers: { scaleway: { plexCommand: ['/usr/bin/plex'] } } }, 'test').providers.scaleway!;
    const env = {
      SCW_API_URL: `${sim.url}/`,
      SCW_ACCESS_KEY: 'SCWABCDEFGHIJKLMNOPQ',
      SCW_SECRET_KEY: '11111111-2222-4333-8444-555555555555',
      SCW_DEFAULT_PROJECT_ID: '99999999-2222-4333-8444-555555555555',
    };
    const provider = createScalewayProvider({ config, env, pollMs: 20, retry: { attempts: 2, baseMs: 10 } });
    expect(await provider.refreshPrice()).toBe(0.2128);
    expect(sim.requests).toHaveLength(1);
    expect(() => createScalewayProvider({ config, env: { ...env, SCW_SECRET_KEY: 'nope' } })).toThrow(
      /providers\.scaleway: .*secret key.*\(from the config or the SCW_\* variables\)/i,
    );
  });

  it('a VM that never boots: an abort ends the boot wait at once (not at the boot timeout); the teardown stops it in place, deletes it and leaves nothing', async () => {
    const { sim, provider, recorded, request } = await setup({ bootTimeoutSeconds: 60 });
    sim.faults.neverBoot = true;
    const reason = new Error('the job reached its lifetime cap');
    // The cap strikes once the server is starting (a loaded machine may take longer than any fixed
    // delay to get there), and the wait for the boot ends at once.
    const cap = new AbortController();
    let begun = 0;
    const watch = setInterval(() => {
      if (!sim.servers().some((s) => s.state === 'starting')) return;
      clearInterval(watch);
      begun = performance.now();
      cap.abort(reason);
    }, 20);
    onTestFinished(() => clearInterval(watch));
    const error = await provider.provision(request('job-never', cap.signal)).catch((e: unknown) => e);
    expect(error).toBe(reason);
    expect(performance.now() - begun).toBeLessThan(1_000);
    expect(sim.servers().map((s) => s.state)).toEqual(['starting']);

    // What was recorded is enough: the starting server (it accepts neither terminate nor delete) is stopped in place, then deleted.
    const waited: string[] = [];
    await provider.teardown(recorded.at(-1)!, { keep: false, onWait: (detail) => waited.push(detail) });
    expect(actionsOf(sim)).toEqual(['poweron', 'stop_in_place']);
    expect(sim.requests.filter((r) => r.method === 'DELETE' && /\/instance\/v1\/zones\/fr-par-1\/servers\//.test(r.path)).map((r) => r.status)).toEqual([204]);
    expect(waited[0]).toMatch(/^the server plexlift-job-never is starting; Scaleway deletes it once it can$/);
    expect(waited).toContain('the server plexlift-job-never is stopping');
    expect(leftovers(sim)).toEqual({ servers: 0, volumes: 0, ips: 0, securityGroups: 0 });
    expect(sim.billing()).toEqual([expect.objectContaining({ name: 'plexlift-job-never', deletedAt: expect.any(Number) })]);
  });

  it('a server that never leaves `stopping`: at the deadline the teardown rejects, leaving it to the orphan reaper', async () => {
    const { sim, provider, request } = await setup({}, { teardownTimeoutMs: 600 });
    const resource = await provider.provision(request('job-stuck'));
    sim.faults.neverStop = true;
    const begun = performance.now();
    const error = (await provider.teardown(resource, { keep: false }).catch((e: unknown) => e)) as PlexliftError;
    expect(error).toBeInstanceOf(PlexliftError);
    expect(error.code).toBe('CLOUD_ERROR');
    expect(error.details).toEqual({ leftToReaper: true });
    expect(error.message).toMatch(/server plexlift-job-stuck still there \(stopping\) after the teardown's wait; left to the orphan reaper \(plexlift vms\)/);
    expect(performance.now() - begun).toBeLessThan(1_500);
    expect(actionsOf(sim)).toEqual(['poweron', 'terminate']);
    // Still listed, so the reaper finds it.
    expect((await provider.list()).map((found) => found.jobId)).toEqual(['job-stuck']);
  });

  it('a server Scaleway locked is left to the orphan reaper at once, and the rejection says so', async () => {
    const { sim, provider, request } = await setup();
    const resource = (await provider.provision(request('job-locked'))) as ScalewayResource;
    sim.faults.locked = [resource.serverId!];
    const error = (await provider.teardown(resource, { keep: false }).catch((e: unknown) => e)) as PlexliftError;
    expect(error).toBeInstanceOf(PlexliftError);
    expect(error.details).toEqual({ leftToReaper: true });
    expect(error.message).toMatch(/server plexlift-job-locked is locked by Scaleway and cannot be deleted now .*; left to the orphan reaper \(plexlift vms\)/);
    expect(actionsOf(sim)).toEqual(['poweron']);
  });

  it("a teardown cut by its signal (the daemon stopping) rejects at once with the signal's reason, not as left to the reaper", async () => {
    const { sim, provider, request } = await setup();
    const resource = await provider.provision(request('job-cut'));
    sim.faults.neverStop = true;
    const reason = new Error('the daemon is stopping');
    const begun = performance.now();
    await expect(provider.teardown(resource, { keep: false, signal: abortAfter(200, reason) })).rejects.toBe(reason);
    expect(performance.now() - begun).toBeLessThan(700);
    // Aborted before it starts: not one call.
    const before = sim.requests.length;
    const aborted = AbortSignal.abort(reason);
    await expect(provider.teardown(resource, { keep: false, signal: aborted })).rejects.toBe(reason);
    await expect(provider.status(resource, aborted)).rejects.toBe(reason);
    expect(sim.requests.length).toBe(before);
  });

  it.each([405, 404] as const)(
    'Block refusing to tag the root volume (HTTP %i): the job goes on, its log says so, the listing finds the volume through its server',
    async (status) => {
      const { sim, provider, request, logged } = await setup();
      sim.faults.volumeUpdateRefused = status;
      const resource = (await provider.provision(request('job-untagged'))) as ScalewayResource;
      expect(sim.requests.filter((r) => r.method === 'PATCH' && r.path.startsWith('/block/v1/')).map((r) => r.status)).toEqual([status]);
      const [volumeId] = resource.volumeIds;
      expect(logged).toEqual([
        `warn: Scaleway refused to tag the root volume ${volumeId!} (HTTP ${status}); it stays untagged, and the orphan reaper still finds it through its server`,
      ]);
      // Not found by its tags, found through its server.
      expect((await provider.apis.block.listVolumes({ zone: 'fr-par-1', tags: ['plexlift'], includeDeleted: false })).volumes).toEqual([]);
      expect(await provider.list()).toEqual([
        { jobId: 'job-untagged', resource: expect.objectContaining({ serverId: resource.serverId, volumeIds: [volumeId] }) },
      ]);
      await provider.teardown(resource, { keep: false });
      expect(leftovers(sim)).toEqual({ servers: 0, volumes: 0, ips: 0, securityGroups: 0 });
    },
  );

  it('a server stuck in a transitional state is polled with backoff, not at a fixed pace', async () => {
    // Scaled: a stop in place of about a second, long enough to count the polls.
    const { sim, provider, recorded, request } = await setup({ bootTimeoutSeconds: 60 }, { timeScale: 0.1 });
    sim.faults.neverBoot = true;
    // The cap acts once the server is starting (powered on), however long the create took on a loaded machine.
    const cap = new AbortController();
    const poweredOn = () => actionsOf(sim).includes('poweron');
    void vi.waitFor(() => expect(poweredOn()).toBe(true), { timeout: 30_000, interval: 20 }).then(() => setTimeout(() => cap.abort(new Error('cap')), 100));
    await expect(provider.provision(request('job-slow', cap.signal))).rejects.toThrow('cap');
    const resource = recorded.at(-1) as ScalewayResource;
    await provider.teardown(resource, { keep: false });
    const serverPath = `/instance/v1/zones/fr-par-1/servers/${resource.serverId!}`;
    const stopAt = sim.requests.find((r) => r.path.endsWith('/action') && r.body.includes('stop_in_place'))!.at;
    const deleteAt = sim.requests.find((r) => r.method === 'DELETE' && r.path === serverPath)!.at;
    const polls = sim.requests.filter((r) => r.method === 'GET' && r.path === serverPath && r.at > stopAt && r.at <= deleteAt).length;
    // A fixed poll every 20 ms would have asked once per 20 ms while it stopped.
    const fixed = (deleteAt - stopAt) / 20;
    expect(deleteAt - stopAt).toBeGreaterThan(900);
    expect(polls).toBeGreaterThan(2);
    expect(polls).toBeLessThan(fixed / 2);
    expect(leftovers(sim)).toEqual({ servers: 0, volumes: 0, ips: 0, securityGroups: 0 });
  });
});
