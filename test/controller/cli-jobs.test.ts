import { join } from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { parseJobSpec, type AgentEvent } from '@plexlift/shared/protocol';
import { startController } from '../../packages/controller/src/controller.js';
import { runCli } from '../utils/run-cli.js';
import { createTempDir } from '../utils/temp-dir.js';

const spec = parseJobSpec({
  jobId: 'job-0001',
  mode: 'delta',
  plex: { version: '1.43.2.10687-563d026ea' },
  media: { mountPath: '/Media', remote: 's3:media' },
});
const ADMIN = 'admin-secret-0123456789';

async function controllerWithHistory() {
  const controller = await startController({
    stateDir: join(createTempDir(), 'state'),
    adminToken: ADMIN,
    host: '127.0.0.1',
    agentJob: () => Promise.reject(new Error('not used')),
  });
  onTestFinished(() => controller.close());
  let job = controller.jobs.create({ id: 'job-0001', library: 'home', provider: 'local', spec, options: { keep: false, noInstall: false } });
  const events: AgentEvent[] = [
    { type: 'phase:start', phase: 'scan' },
    { type: 'phase:progress', phase: 'scan', percent: 50, rate: { value: 1234, unit: 'files/h' }, etaMs: 125_000, message: 'Movies: 300 files' },
    { type: 'phase:complete', phase: 'scan', summary: {} },
    { type: 'phase:start', phase: 'sonic' },
    {
      type: 'phase:progress',
      phase: 'sonic',
      percent: 12.5,
      rate: { value: 5400, unit: 'tracks/h' },
      etaMs: 3 * 3_600_000 + 20 * 60_000,
      message: '500 of 4000 tracks',
    },
  ];
  for (const [i, event] of events.entries()) controller.jobs.appendEvent('job-0001', `job-0001:${i}`, event);
  job = controller.jobs.transition(job, 'queued', 'provisioning')!;
  job = controller.jobs.transition(job, 'provisioning', 'running')!;
  return { controller, job };
}

const env = (url: string, token = ADMIN) => ({ env: { PLEXLIFT_URL: url, PLEXLIFT_TOKEN: token } });

describe('the job commands of the CLI', () => {
  it('status --watch shows each phase with its percent, rate and ETA, and ends with the job (exit 5 for an aborted one)', async () => {
    const { controller, job } = await controllerWithHistory();
    let shown = '';
    const watching = runCli(['status', 'job-0001', '--watch'], { ...env(controller.server.url), onStderr: (chunk) => (shown += chunk) });
    // The job ends only once the CLI is following it (it has shown the stored history).
    await vi.waitFor(() => expect(shown).toContain('500 of 4000 tracks'), { timeout: 30_000, interval: 100 });
    const stored = controller.jobs.appendEvent('job-0001', 'job-0001:9', {
      type: 'phase:fail',
      phase: 'sonic',
      code: 'JOB_ABORTED',
      message: 'sonic was aborted: asked by the user',
    })!;
    controller.bus.eventStored(stored);
    controller.jobs.transition(job, 'running', 'aborted', { error: { code: 'JOB_ABORTED', message: 'asked by the user' } });
    const result = await watching;
    expect(result.stderr.split('\n').slice(0, 7)).toEqual([
      '› scan',
      '  scan | 50% | 1,234 files/h | ETA 2m05s | Movies: 300 files',
      '✓ scan',
      '› sonic',
      '  sonic | 13% | 5,400 tracks/h | ETA 3h20m | 500 of 4000 tracks',
      '✗ sonic: sonic was aborted: asked by the user',
      'plexlift: job job-0001 aborted: asked by the user',
    ]);
    expect(result.status).toBe(5);
  });

  it('jobs and status read the store; a wrong admin token is refused with exit 7, a stopped daemon is exit 8', async () => {
    const { controller } = await controllerWithHistory();
    const jobs = await runCli(['jobs'], env(controller.server.url));
    expect(jobs.stdout).toMatch(/^job +mode +provider +state +phase +started\njob-0001 +delta +local +running +sonic +0 min ago\n$/);
    const status = await runCli(['status', '--json'], env(controller.server.url));
    expect(JSON.parse(status.stdout)).toMatchObject({
      job: { id: 'job-0001', state: 'running' },
      phases: [
        { phase: 'scan', state: 'done' },
        { phase: 'sonic', state: 'running' },
      ],
    });
    const refused = await runCli(['jobs'], env(controller.server.url, 'admin-wrong'));
    expect(refused).toMatchObject({ status: 7, stderr: expect.stringMatching(/refused the admin token/) });
    await controller.close();
    const down = await runCli(['jobs'], env(controller.server.url));
    expect(down).toMatchObject({ status: 8, stderr: expect.stringMatching(/cannot reach .*is plexlift serve running\?/) });
  });
});
