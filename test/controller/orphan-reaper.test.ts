import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseConfig } from '@plexlift/shared';
import { parseJobSpec } from '@plexlift/shared/protocol';
import { OrphanReaper } from '../../packages/controller/src/jobs/orphan-reaper.js';
import { createScalewayProvider } from '../../packages/controller/src/providers/scaleway/scaleway-provider.js';
import { JobStore } from '../../packages/controller/src/store/job-store.js';
import { openStoreDatabase } from '../../packages/controller/src/store/schema.js';
import { SIM_KEYS, startScalewaySim } from '../scaleway-sim/scaleway-sim.js';
import { createTempDir } from '../utils/temp-dir.js';
import { createLogger } from '../../packages/controller/src/logger.js';
import { createNotifier } from '../../packages/controller/src/notify/notifier.js';
import { startHttpReceiver } from '../utils/notify-receivers.js';

async function setup() {
  const sim = await startScalewaySim({ timeScale: 0.01 });
  onTestFinished(() => sim.close());
  const config = parseConfig({ providers: { scaleway: { apiUrl: sim.url, ...SIM_KEYS, plexCommand: ['/usr/bin/plex'] } } }, 'test').providers.scaleway!;
  const provider = createScalewayProvider({ config, env: {}, pollMs: 20, retry: { attempts: 3, baseMs: 10 }, teardownTimeoutMs: 20_000 });
  const db = openStoreDatabase(join(createTempDir(), 'plexlift.db'));
  onTestFinished(() => void db.close());
  const jobs = new JobStore(db);
  const logged: string[] = [];
  // Each deletion is told on the webhook (notify.webhook), once.
  const webhook = await startHttpReceiver();
  const notifier = createNotifier(
    parseConfig({ notify: { webhook: { url: webhook.url } } }, 'test').notify,
    createLogger(() => undefined),
  );
  const reaper = new OrphanReaper({
    providers: { scaleway: provider },
    jobs,
    logger: createLogger((level, line) => logged.push(`${level}: ${line}`)),
    notifier,
  });
  const machine = (jobId: string) =>
    provider.provision({
      jobId,
      controllerUrl: 'https://203.0.113.7:7878',
      bootstrapToken: 'plx_b_x',
      record: (resource) => (jobs.get(jobId) ? jobs.setResource(jobId, resource) : undefined),
    });
  const job = (id: string) =>
    jobs.create({
      id,
      library: `lib-${id}`,
      provider: 'scaleway',
      spec: parseJobSpec({ jobId: id, mode: 'delta', plex: { version: '1.43.2.10687-563d026ea' }, media: { mountPath: '/media', remote: 's3:m' } }),
      options: { keep: false, noInstall: false },
    });
  return { sim, provider, jobs, reaper, machine, job, logged, notifier, webhook };
}

describe('the orphan reaper', () => {
  it('leaves what live jobs own, marks what nobody owns, deletes it at the next pass; a dry run changes nothing', async () => {
    const { sim, jobs, reaper, machine, job, logged, notifier, webhook } = await setup();
    job('job-live');
    await machine('job-live');
    await machine('job-unknown'); // a create whose record was lost: no job in the store
    const failed = job('job-failed');
    await machine('job-failed');
    jobs.transition(failed, 'queued', 'failed', { error: { code: 'UNEXPECTED', message: 'teardown failed' } });
    expect(sim.servers()).toHaveLength(3);

    const look = await reaper.pass({ dryRun: true });
    expect(look.map((o) => [o.jobId, o.action]).sort()).toEqual([
      ['job-failed', 'would-mark'],
      ['job-live', 'owned'],
      ['job-unknown', 'would-mark'],
    ]);
    const first = await reaper.pass();
    expect(first.map((o) => [o.jobId, o.action]).sort()).toEqual([
      ['job-failed', 'marked'],
      ['job-live', 'owned'],
      ['job-unknown', 'marked'],
    ]);
    expect(sim.servers()).toHaveLength(3);
    const planned = await reaper.pass({ dryRun: true });
    expect(
      planned
        .filter((o) => o.action === 'would-delete')
        .map((o) => o.jobId)
        .sort(),
    ).toEqual(['job-failed', 'job-unknown']);
    expect(sim.servers()).toHaveLength(3);

    const second = await reaper.pass();
    expect(second.map((o) => [o.jobId, o.action]).sort()).toEqual([
      ['job-failed', 'deleted'],
      ['job-live', 'owned'],
      ['job-unknown', 'deleted'],
    ]);
    expect(sim.servers().map((s) => s.name)).toEqual(['plexlift-job-live']);
    await notifier.idle();
    expect(webhook.received.map((r) => (JSON.parse(r.body) as { event: string; jobId: string }).jobId).sort()).toEqual(['job-failed', 'job-unknown']);
    expect(webhook.received.every((r) => (JSON.parse(r.body) as { event: string }).event === 'reaper:deleted')).toBe(true);
    expect(sim.volumes()).toHaveLength(1);
    expect(
      sim
        .securityGroups()
        .filter((g) => !g.projectDefault)
        .map((g) => g.name),
    ).toEqual(['plexlift-job-live']);
    expect(logged.filter((l) => l.startsWith('warn: deleted an orphan'))).toHaveLength(2);
    // What the inventory shows: each holding with its job, whether it is owned, what it is, its age.
    const [live] = await reaper.holdings();
    expect(live).toMatchObject({
      provider: 'scaleway',
      jobId: 'job-live',
      jobState: 'queued',
      owned: true,
      description: expect.stringMatching(/^server plexlift-job-live \([\w-]+\), 1 volume, 0 IPs in fr-par-1$/),
    });
    expect(Date.now() - live!.createdAt!).toBeLessThan(60_000);
  });

  it('a security group left by a daemon that died before its server was made is reaped like a machine', async () => {
    const { sim, reaper, machine, logged } = await setup();
    // The group is made, then the server create fails and nothing records the job.
    sim.faults.quotaExceeded = true;
    await expect(machine('job-crashed')).rejects.toThrow(/quota exceeded/);
    sim.faults.quotaExceeded = false;
    const ours = () => sim.securityGroups().filter((g) => !g.projectDefault);
    expect(ours().map((g) => g.name)).toEqual(['plexlift-job-crashed']);
    expect((await reaper.pass()).map((o) => [o.jobId, o.action])).toEqual([['job-crashed', 'marked']]);
    const [holding] = await reaper.holdings();
    expect(holding).toMatchObject({
      jobId: 'job-crashed',
      owned: false,
      description: expect.stringMatching(/^no server, security group [\w-]+, 0 volumes, 0 IPs in fr-par-1$/),
    });
    expect((await reaper.pass()).map((o) => [o.jobId, o.action])).toEqual([['job-crashed', 'deleted']]);
    expect(ours()).toEqual([]);
    expect(logged.filter((l) => l.startsWith('warn: deleted an orphan'))).toHaveLength(1);
  });

  it('a job that takes up a marked machine before the second pass keeps it', async () => {
    const { sim, jobs, reaper, machine, job } = await setup();
    await machine('job-late');
    expect((await reaper.pass()).map((o) => o.action)).toEqual(['marked']);
    // The job record appears (a restarted controller's resume, a slow create) and is live.
    job('job-late');
    expect((await reaper.pass()).map((o) => o.action)).toEqual(['owned']);
    jobs.transition(jobs.get('job-late')!, 'queued', 'aborted', { error: { code: 'JOB_ABORTED', message: 'x' } });
    // Unowned again: marked afresh, not deleted at once.
    expect((await reaper.pass()).map((o) => o.action)).toEqual(['marked']);
    expect(sim.servers()).toHaveLength(1);
  });
});
