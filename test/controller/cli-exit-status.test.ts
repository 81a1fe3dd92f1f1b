import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '@plexlift/shared';
import { parseJobSpec } from '@plexlift/shared/protocol';
import { startController, type Controller } from '../../packages/controller/src/controller.js';
import type { JobRecord } from '../../packages/controller/src/store/job-store.js';
import { runCli } from '../utils/run-cli.js';

const ADMIN = 'admin-secret-0123456789';

/**
 * A controller whose every `run` makes a job that fails at once with the code of the moment,
 * recorded as the job runner records a failure: the `phase:fail` event, then the final state.
 */
async function startFailingController(stateDir: string) {
  let failWith: ErrorCode = 'UNEXPECTED';
  const fail = (job: JobRecord, code: ErrorCode) => {
    const message = `failed with ${code} on purpose`;
    const stored = controller.jobs.appendEvent(job.id, `controller:${job.id}:fail`, { type: 'phase:fail', phase: 'provision', code, message });
    if (stored) controller.bus.eventStored(stored);
    controller.jobs.transition(job, job.state, code === 'JOB_ABORTED' ? 'aborted' : 'failed', { error: { code, message } });
  };
  const controller: Controller = await startController({
    stateDir,
    adminToken: ADMIN,
    host: '127.0.0.1',
    agentJob: () => Promise.reject(new Error('no agent in this test')),
    control: {
      abort: () => Promise.resolve(),
      run: (request) => {
        const code = failWith;
        const id = `job-${code.toLowerCase().replaceAll('_', '-')}`;
        const spec = parseJobSpec({
          jobId: id,
          mode: request.mode,
          plex: { version: '1.43.2.10687-563d026ea' },
          media: { mountPath: '/Media', remote: 's3:media' },
        });
        const job = controller.jobs.create({ id, library: 'home', provider: 'local', spec, options: { keep: request.keep, noInstall: request.noInstall } });
        // After the answer, as a real job fails while the CLI follows it.
        setTimeout(() => fail(job, code), 50);
        return Promise.resolve({ ...job, estimate: { hourlyPrice: 0 } });
      },
    },
  });
  return { controller, failJobsWith: (code: ErrorCode) => (failWith = code) };
}

describe('plexlift run --wait exits with the status ERROR_CODES gives the code the job failed with', () => {
  // One controller for every code: the CLI's start-up is the cost of each case.
  const dir = mkdtempSync(join(tmpdir(), 'plexlift-test-'));
  let failing: Awaited<ReturnType<typeof startFailingController>>;
  beforeAll(async () => {
    failing = await startFailingController(join(dir, 'state'));
  });
  afterAll(async () => {
    await failing.controller.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(Object.entries(ERROR_CODES).map(([code, { exit }]) => [code as ErrorCode, exit]))('%s: exit %i', async (code, exit) => {
    failing.failJobsWith(code);
    const result = await runCli(['run', '--mode', 'delta', '--wait'], { env: { PLEXLIFT_URL: failing.controller.server.url, PLEXLIFT_TOKEN: ADMIN } });
    expect(result.stderr).toMatch(new RegExp(`plexlift: job job-\\S+ (failed|aborted): failed with ${code} on purpose\\n$`));
    expect(result.status).toBe(exit);
  });
});
