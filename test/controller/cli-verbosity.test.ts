import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { exitStatusOf } from '@plexlift/shared';
import { parseJobSpec, type AgentEvent } from '@plexlift/shared/protocol';
import { startController, type Controller } from '../../packages/controller/src/controller.js';
import type { JobRecord } from '../../packages/controller/src/store/job-store.js';
import { generateLibrary } from '../utils/library-generator.js';
import { runCli, startCliOnTerminal } from '../utils/run-cli.js';
import { createTempDir } from '../utils/temp-dir.js';

const ADMIN = 'admin-secret-0123456789';
const HIDE_CURSOR = '\x1b[?25l';

const spec = (jobId: string) =>
  parseJobSpec({ jobId, mode: 'delta', plex: { version: '1.43.2.10687-563d026ea' }, media: { mountPath: '/Media', remote: 's3:media' } });

function emit(controller: Controller, job: JobRecord, key: string, event: AgentEvent): void {
  const stored = controller.jobs.appendEvent(job.id, key, event);
  if (stored) controller.bus.eventStored(stored);
}

/** A check's report without how long it took. */
const withoutTimes = (text: string) => text.replace(/\(\d+\.\d s\)/g, '(… s)');

describe('-q/--quiet and -v/--verbose, global options of every command', () => {
  const controllers: Controller[] = [];
  afterEach(async () => {
    await Promise.all(controllers.splice(0).map((c) => c.close()));
  });

  /** A daemon whose `run` makes a job that starts a phase, then fails in it, as the job runner records it. */
  async function startDaemonWithFailingRuns() {
    const controller: Controller = await startController({
      stateDir: join(createTempDir(), 'state'),
      adminToken: ADMIN,
      host: '127.0.0.1',
      agentJob: () => Promise.reject(new Error('no agent in this test')),
      control: {
        abort: () => Promise.resolve(),
        run: (request) => {
          const job = controller.jobs.create({
            id: 'job-quiet',
            library: 'home',
            provider: 'local',
            spec: spec('job-quiet'),
            options: { keep: request.keep, noInstall: request.noInstall },
          });
          // After the answer, as a real job fails while the CLI follows it.
          setTimeout(() => {
            emit(controller, job, 'c:1', { type: 'phase:start', phase: 'provision' });
            emit(controller, job, 'c:2', { type: 'phase:fail', phase: 'provision', code: 'CLOUD_ERROR', message: 'no machine today' });
            controller.jobs.transition(job, job.state, 'failed', { error: { code: 'CLOUD_ERROR', message: 'no machine today' } });
          }, 300);
          return Promise.resolve({ ...job, estimate: { hourlyPrice: 0 } });
        },
      },
    });
    controllers.push(controller);
    return { controller, env: { PLEXLIFT_URL: controller.server.url, PLEXLIFT_TOKEN: ADMIN } };
  }

  it('-q: db check prints its result and no phase lines, before or after the subcommand', async () => {
    const library = generateLibrary({ dir: createTempDir(), size: 'tiny' });
    const normal = await runCli(['db', 'check', library.mainDb]);
    expect(normal.status).toBe(0);
    expect(normal.stderr).toBe(`checking ${library.mainDb}\nchecking ${library.blobsDb}\n`);
    for (const args of [
      ['-q', 'db', 'check', library.mainDb],
      ['db', 'check', library.mainDb, '--quiet'],
    ]) {
      const quiet = await runCli(args);
      expect(quiet, args.join(' ')).toMatchObject({ status: 0, stderr: '' });
      expect(withoutTimes(quiet.stdout)).toBe(withoutTimes(normal.stdout));
    }
  });

  it('-q and -v together are a usage error naming both, exit 2', async () => {
    const result = await runCli(['-q', 'db', 'stats', '/nonexistent.db', '-v']);
    expect(result).toMatchObject({
      status: 2,
      stderr: "plexlift: option '-q, --quiet' cannot be used with option '-v, --verbose'\n(see plexlift --help)\n",
    });
  });

  it('-v: an unexpected error shows where it came from; without it, one line that says how to see that', async () => {
    // A SQLite file that is not Plex's: `db stats` meets a table it does not know of, an error it has no words for.
    const path = join(createTempDir(), 'other.db');
    const db = new Database(path);
    db.exec('CREATE TABLE notes (text TEXT)');
    db.close();
    const plain = await runCli(['db', 'stats', path]);
    expect(plain).toMatchObject({
      status: 1,
      stderr: "plexlift: unexpected error: no such table: library_sections (-v shows where; please report it with plexlift doctor's output)\n",
    });
    const verbose = await runCli(['-v', 'db', 'stats', path]);
    expect(verbose.status).toBe(1);
    expect(verbose.stderr).toMatch(
      /^plexlift: unexpected error: no such table: library_sections\n\s+at [\s\S]*\n\s+at readLibraryStats \(.*library-stats\.ts:/,
    );
  });

  it('-v: a known error keeps its one line, then says where it came from', async () => {
    const result = await runCli(['db', 'stats', '/nonexistent.db', '--verbose']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^plexlift: DB: \/nonexistent\.db does not exist or cannot be read\n\s+at /);
  });

  it('-q: run --wait says only how the job ended: no start line, no phases', { timeout: 60_000 }, async () => {
    const { env } = await startDaemonWithFailingRuns();
    const normal = await runCli(['run', '--mode', 'delta', '--wait'], { env });
    expect(normal.status).toBe(exitStatusOf('CLOUD_ERROR'));
    expect(normal.stderr).toMatch(/^job job-quiet started \(delta, provider local; nothing to pay\)\n/);
    expect(normal.stderr).toMatch(/\nplexlift: job job-quiet failed: no machine today\n$/);

    const { env: again } = await startDaemonWithFailingRuns();
    const quiet = await runCli(['run', '--mode', 'delta', '--wait', '-q'], { env: again });
    expect(quiet).toMatchObject({ status: exitStatusOf('CLOUD_ERROR'), stdout: '', stderr: 'plexlift: job job-quiet failed: no machine today\n' });
  });

  it('-v on a terminal: each job event is a line of its own, not a bar', { timeout: 60_000 }, async () => {
    const { controller, env } = await startDaemonWithFailingRuns();
    let job = controller.jobs.create({
      id: 'job-watched',
      library: 'home',
      provider: 'local',
      spec: spec('job-watched'),
      options: { keep: false, noInstall: false },
    });
    job = controller.jobs.transition(job, 'queued', 'provisioning')!;
    job = controller.jobs.transition(job, 'provisioning', 'running')!;
    emit(controller, job, 'a:1', { type: 'phase:start', phase: 'sonic' });
    const watch = startCliOnTerminal(['-v', 'status', job.id, '--watch'], { env });
    await vi.waitFor(() => expect(watch.screen()).toContain('› sonic'), { timeout: 20_000 });
    for (const [key, percent] of [
      ['a:2', 42],
      ['a:3', 43],
    ] as const) {
      emit(controller, job, key, { type: 'phase:progress', phase: 'sonic', percent, rate: { value: 1234, unit: 'tracks/h' }, etaMs: 150_000 });
    }
    await vi.waitFor(
      () => expect(watch.screen()).toMatch(/\n {2}sonic \| 42% \| 1,234 tracks\/h \| ETA 2m30s\n {2}sonic \| 43% \| 1,234 tracks\/h \| ETA 2m30s\n/),
      {
        timeout: 10_000,
      },
    );
    emit(controller, job, 'a:4', { type: 'phase:complete', phase: 'sonic', summary: {} });
    for (const next of ['verified', 'installing', 'done'] as const) job = controller.jobs.transition(job, job.state, next)!;
    const { status, output } = await watch.exited;
    expect(status, output).toBe(0);
    expect(output).toContain('✓ sonic');
    expect(output).not.toContain(HIDE_CURSOR);
  });
});
