import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { plexSimCommand } from '../utils/local-plex.js';
import { prepareDeltaJob } from './delta-job-fixture.js';
import { FAST_IDLE } from '../utils/fast-idle.js';

const AGENT = fileURLToPath(new URL('../../packages/agent/src/main.ts', import.meta.url));

function runAgent(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', AGENT, ...args],
      { env: { ...process.env, ...env }, timeout: 120_000 },
      (error, stdout, stderr) => {
        resolve({ code: typeof error?.code === 'number' ? error.code : error ? 1 : 0, stdout, stderr });
      },
    );
  });
}

function agentArgs(dir: string, plexTvUrl: string) {
  const vm = join(dir, 'vm-process');
  mkdirSync(vm, { recursive: true });
  writeFileSync(join(vm, 'knobs.json'), JSON.stringify({ speed: 200 }));
  writeFileSync(
    join(vm, 'tuning.json'),
    JSON.stringify({
      idle: FAST_IDLE,
      sonic: { intervalMs: 100, timeoutMs: 60_000, tracker: { stallReadings: 50 } },
      readyTimeoutMs: 30_000,
      cpuSampleMs: 250,
      mountCheckMs: 500,
    }),
  );
  writeFileSync(join(vm, 'token'), 'bootstrap\n', { mode: 0o600 });
  const plexCommand = plexSimCommand(join(vm, 'knobs.json'), plexTvUrl);
  return {
    vm,
    args: (controller: string) => [
      '--controller',
      controller,
      '--job',
      'job-e2e',
      '--work-dir',
      vm,
      '--plex-config',
      join(vm, 'config'),
      '--plex-command',
      JSON.stringify(plexCommand),
      '--token-file',
      join(vm, 'token'),
      '--tuning',
      join(vm, 'tuning.json'),
    ],
  };
}

describe('plexlift-agent as a process', () => {
  it('runs a delta job from start to finish and exits 0', async () => {
    const { dir, tv, agentHome, transfers } = await prepareDeltaJob();
    const { args } = agentArgs(dir, tv.url);
    const result = await runAgent(args(agentHome.url), {});
    expect(result.stderr).toBe('');
    expect(result).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(
        /^job job-e2e: done \(connect, mount, restore, repair, plex-start, preflight, scan, warm, analyze, stabilize, sonic, plex-stop, export, upload\)/,
      ),
    });
    expect(existsSync(transfers.archivePath('job-e2e-export'))).toBe(true);
    expect(agentHome.events.filter((e) => e.type === 'phase:complete')).toHaveLength(16);
    // The machine's CPU, sampled all along for the report.
    const samples = agentHome.events.filter((e) => e.type === 'cpu:sample');
    expect(samples.length).toBeGreaterThan(5);
    expect(samples.every((e) => e.type === 'cpu:sample' && e.percent >= 0 && e.percent <= 100)).toBe(true);
  });

  it('an abort from home stops the job in the phase it is in, with exit 5, and leaves nothing running', async () => {
    const { dir, tv, agentHome } = await prepareDeltaJob();
    const { vm, args } = agentArgs(dir, tv.url);
    const running = runAgent(args(agentHome.url), {});
    await vi.waitFor(() => expect(agentHome.events).toContainEqual(expect.objectContaining({ type: 'phase:start', phase: 'scan' })), { timeout: 60_000 });
    agentHome.pushCommand({ type: 'abort', jobId: 'job-e2e', reason: 'asked by the user' });
    const result = await running;
    expect(result).toMatchObject({
      code: 5,
      stderr: expect.stringMatching(/^plexlift-agent: \S+ was aborted: the job was aborted from home: asked by the user/),
    });
    const failed = agentHome.events.find((e) => e.type === 'phase:fail');
    expect(failed).toMatchObject({ code: 'JOB_ABORTED' });
    // Plex stopped and the media unmounted on the way out.
    expect(readFileSync('/proc/self/mounts', 'utf8')).not.toContain(join(dir, 'Media'));
    // Plex had started (the scan began) and stopped cleanly: it removes its pid file on a clean exit.
    expect(existsSync(join(vm, 'config', 'Library', 'Application Support', 'Plex Media Server', 'plexmediaserver.pid'))).toBe(false);
    expect(existsSync(join(vm, 'config', 'Library', 'Application Support', 'Plex Media Server', 'Logs', 'Plex Media Server.log'))).toBe(true);
  });

  it('a bad job spec is a clear error (exit 2) and nothing starts', async () => {
    const { dir, tv, agentHome } = await prepareDeltaJob({
      spec: { jobId: 'job-e2e', mode: 'delta', plex: { version: 'latest' }, media: { mountPath: 'Media', remote: 'r:' } },
    });
    const { vm, args } = agentArgs(dir, tv.url);
    const result = await runAgent(args(agentHome.url), {});
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^plexlift-agent: job spec: plex\.version: must be a full PMS version .*; media\.mountPath: must be an absolute path/);
    expect(existsSync(join(vm, 'config'))).toBe(false);
    expect(agentHome.events).toEqual([]);
  });

  it('a refused token stops it with exit 7', async () => {
    const { dir, tv, agentHome } = await prepareDeltaJob();
    const { vm, args } = agentArgs(dir, tv.url);
    writeFileSync(join(vm, 'token'), 'expired\n');
    const result = await runAgent(args(agentHome.url), {});
    expect(result).toMatchObject({ code: 7, stderr: expect.stringMatching(/refused this agent's token/) });
  });
});
