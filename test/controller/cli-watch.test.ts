import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseJobSpec, type AgentEvent } from '@plexlift/shared/protocol';
import { startController, type Controller } from '../../packages/controller/src/controller.js';
import type { JobRecord } from '../../packages/controller/src/store/job-store.js';
import { freePort } from '../utils/free-port.js';
import { startCliOnTerminal } from '../utils/run-cli.js';

const ADMIN = 'admin-secret-0123456789';
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';

/** A daemon's API over a store that outlives it (a restart is a new controller on the same folder and port). */
function daemonAt(stateDir: string, port: number): Promise<Controller> {
  return startController({
    stateDir,
    adminToken: ADMIN,
    host: '127.0.0.1',
    port,
    agentJob: () => Promise.reject(new Error('no agent in this test')),
    control: { abort: () => Promise.resolve() },
  });
}

function emit(controller: Controller, job: JobRecord, key: string, event: AgentEvent): void {
  const stored = controller.jobs.appendEvent(job.id, key, event);
  if (stored) controller.bus.eventStored(stored);
}

/** Whether the cursor is shown at the end of what the terminal got (hidden by a bar, shown again). */
const cursorShown = (screen: string) => !screen.includes(HIDE_CURSOR) || screen.lastIndexOf(SHOW_CURSOR) > screen.lastIndexOf(HIDE_CURSOR);

describe('status --watch on a terminal', () => {
  const dirs: string[] = [];
  const controllers: Controller[] = [];
  afterEach(async () => {
    await Promise.all(controllers.splice(0).map((c) => c.close()));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  async function runningJob() {
    const dir = mkdtempSync(join(tmpdir(), 'plexlift-test-'));
    dirs.push(dir);
    const port = await freePort();
    const stateDir = join(dir, 'state');
    const controller = await daemonAt(stateDir, port);
    controllers.push(controller);
    const spec = parseJobSpec({
      jobId: 'job-watched',
      mode: 'delta',
      plex: { version: '1.43.2.10687-563d026ea' },
      media: { mountPath: '/Media', remote: 's3:media' },
    });
    let job = controller.jobs.create({ id: 'job-watched', library: 'home', provider: 'local', spec, options: { keep: false, noInstall: false } });
    job = controller.jobs.transition(job, 'queued', 'provisioning')!;
    job = controller.jobs.transition(job, 'provisioning', 'running')!;
    emit(controller, job, 'a:1', { type: 'phase:start', phase: 'sonic' });
    return { controller, job, stateDir, port, env: { PLEXLIFT_URL: `http://127.0.0.1:${port}`, PLEXLIFT_TOKEN: ADMIN } };
  }

  it("shows the daemon's rate and ETA (never the bar's own guess) and follows the job across a daemon restart", { timeout: 90_000 }, async () => {
    const { controller, job, stateDir, port, env } = await runningJob();
    const watch = startCliOnTerminal(['status', job.id, '--watch'], { env });
    await vi.waitFor(() => expect(watch.screen()).toContain('› sonic'), { timeout: 20_000 });
    emit(controller, job, 'a:2', {
      type: 'phase:progress',
      phase: 'sonic',
      percent: 42,
      rate: { value: 1234.4, unit: 'tracks/h' },
      etaMs: 150_000,
      message: 'Music: 420 of 1,000 tracks',
    });
    await vi.waitFor(() => expect(watch.screen()).toMatch(/42% \| 1,234 tracks\/h \| ETA 2m30s \| Music: 420 of 1,000 tracks/), { timeout: 10_000 });
    expect(watch.screen()).not.toMatch(/ETA (INF|NULL|\d+ )/);

    // The daemon goes away and comes back: the watcher says so, waits, and goes on.
    await controller.close();
    await vi.waitFor(() => expect(watch.screen()).toMatch(/the daemon does not answer; trying again for 120 s \(the job goes on\)/), { timeout: 15_000 });
    const restarted = await daemonAt(stateDir, port);
    controllers.push(restarted);
    await vi.waitFor(() => expect(watch.screen()).toContain('the daemon answers again'), { timeout: 20_000 });
    emit(restarted, job, 'a:3', {
      type: 'phase:progress',
      phase: 'sonic',
      percent: 80,
      rate: { value: 1300, unit: 'tracks/h' },
      etaMs: 45_000,
      message: 'Music: 800 of 1,000 tracks',
    });
    await vi.waitFor(() => expect(watch.screen()).toMatch(/80% \| 1,300 tracks\/h \| ETA 45s/), { timeout: 15_000 });
    emit(restarted, job, 'a:4', { type: 'phase:complete', phase: 'sonic', summary: {} });
    let current = restarted.jobs.get(job.id)!;
    for (const next of ['verified', 'installing', 'done'] as const) current = restarted.jobs.transition(current, current.state, next)!;
    const { status, output } = await watch.exited;
    expect(status, output).toBe(0);
    expect(output).toContain('✓ sonic');
    expect(cursorShown(output)).toBe(true);
  });

  it('a daemon gone for longer than the limit ends the watcher with 8 and a readable line; the cursor is back', { timeout: 60_000 }, async () => {
    const { controller, job, env } = await runningJob();
    const watch = startCliOnTerminal(['status', job.id, '--watch'], { env: { ...env, PLEXLIFT_RECONNECT_SECONDS: '3' } });
    await vi.waitFor(() => expect(watch.screen()).toContain('› sonic'), { timeout: 20_000 });
    emit(controller, job, 'a:2', { type: 'phase:progress', phase: 'sonic', percent: 10, etaMs: 600_000 });
    await vi.waitFor(() => expect(watch.screen()).toContain(HIDE_CURSOR), { timeout: 10_000 });
    await controller.close();
    const { status, output } = await watch.exited;
    expect(status, output).toBe(8);
    expect(output).toMatch(
      /\nplexlift: the daemon has not answered for \d+ s \(cannot reach .*\); job job-watched goes on without this watcher: follow it again with plexlift status job-watched --watch\n$/,
    );
    expect(cursorShown(output)).toBe(true);
  });

  it('Ctrl-C stops the watching, not the job, and gives the cursor back', { timeout: 60_000 }, async () => {
    const { controller, job, env } = await runningJob();
    const watch = startCliOnTerminal(['status', job.id, '--watch'], { env });
    await vi.waitFor(() => expect(watch.screen()).toContain('› sonic'), { timeout: 20_000 });
    emit(controller, job, 'a:2', { type: 'phase:progress', phase: 'sonic', percent: 10, etaMs: 600_000 });
    await vi.waitFor(() => expect(watch.screen()).toContain(HIDE_CURSOR), { timeout: 10_000 });
    watch.type('\x03');
    const { status, output } = await watch.exited;
    expect(status).toBe(130);
    expect(output).toContain('stopped following job job-watched; it goes on (plexlift status job-watched --watch)');
    expect(cursorShown(output)).toBe(true);
    expect(controller.jobs.get(job.id)?.state).toBe('running');
  });
});
