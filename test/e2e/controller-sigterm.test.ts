import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import type { AgentEvent, PhaseName } from '@plexlift/shared/protocol';
import { runCli } from '../utils/run-cli.js';
import { readStatsOf } from '../utils/sqlite-files.js';
import { startThrottlingProxy } from '../utils/throttling-proxy.js';
import { prepare, serve } from './plexlift-fixture.js';

/** The phases that have started so far, read from the daemon's store. */
function startedPhases(stateDir: string, jobId: string): PhaseName[] {
  try {
    const db = new Database(join(stateDir, 'plexlift.db'), { readonly: true, timeout: 1_000 });
    try {
      const rows = db.prepare(`SELECT payload_json FROM events WHERE job_id = ? AND type = 'phase:start' ORDER BY id`).pluck().all(jobId) as string[];
      return rows.map((row) => (JSON.parse(row) as Extract<AgentEvent, { type: 'phase:start' }>).phase);
    } finally {
      db.close();
    }
  } catch {
    return [];
  }
}

describe('plexlift serve stopped with SIGTERM', () => {
  it(
    'during provisioning, a phase, a transfer and the teardown: it exits within 10 s each time, on its own, and the job ends as it would have',
    { timeout: 300_000 },
    async () => {
      // A scan of 0.8 s a file (160 s at the double's speed of 200): the 9 files take about 7 s,
      // so the scan is still under way when the signal comes and when the daemon says where the job stands.
      const { home, dir, configPath } = await prepare({ daemon: false, knobs: { timings: { scanItemMs: 160_000 } } });
      const stateDir = join(dir, 'state');
      // The agent reaches the daemon through a link whose upload can be slowed: the archive's
      // transfer then lasts long enough to be cut.
      const config = JSON.parse(readFileSync(configPath, 'utf8')) as { server: Record<string, unknown> };
      const proxy = await startThrottlingProxy(config.server.port as number);
      onTestFinished(() => proxy.close());
      config.server.publicUrl = `https://${proxy.address}`;
      writeFileSync(configPath, JSON.stringify(config, null, 2));
      let daemon = await serve(configPath);
      const started = await runCli(['run', '--mode', 'delta', '--json', '--config', configPath]);
      expect(started.status, started.stderr).toBe(0);
      const jobId = (JSON.parse(started.stdout) as { id: string }).id;
      const stops: { at: PhaseName; seconds: number; log: string }[] = [];
      for (const target of ['provision', 'scan', 'upload', 'teardown'] as PhaseName[]) {
        // The archive is made at full speed, then trickles home at 4 KiB/s (about 70 KB: some 17 s).
        if (target === 'upload') {
          await vi.waitFor(() => expect(startedPhases(stateDir, jobId)).toContain('export'), { timeout: 60_000, interval: 20 });
          proxy.throttle(4_096);
        }
        await vi.waitFor(() => expect(startedPhases(stateDir, jobId)).toContain(target), { timeout: 60_000, interval: 20 });
        const begun = performance.now();
        await daemon.stop();
        const seconds = (performance.now() - begun) / 1000;
        stops.push({ at: target, seconds, log: daemon.log() });
        // A graceful stop, not the forced exit of the deadline.
        expect(daemon.log(), `stopped at ${target}`).not.toMatch(/not stopped within|exiting now/);
        expect(daemon.log()).toMatch(/SIGTERM: stopping/);
        proxy.throttle(undefined);
        daemon = await serve(configPath);
      }
      for (const stop of stops) expect(stop.seconds, `SIGTERM during ${stop.at}`).toBeLessThan(10);
      // Where the job stood is said, and the next start takes it up: the phase and the transfer
      // were still under way when the daemon stopped.
      const logs = stops.map((s) => s.log);
      expect(logs[1]).toMatch(new RegExp(`job ${jobId} left running \\(scan\\); it goes on at the next start`));
      expect(logs[2]).toMatch(new RegExp(`job ${jobId} left running \\(upload\\); it goes on at the next start`));
      expect(logs.join('\n')).toMatch(new RegExp(`job ${jobId} left (provisioning|running|verified)`));
      const watched = await runCli(['status', jobId, '--watch', '--config', configPath], { timeoutMs: 120_000 });
      expect(watched.status, `${watched.stderr}\n${[...logs, daemon.log()].join('\n--- restart ---\n')}`).toBe(0);
      const status = JSON.parse((await runCli(['status', jobId, '--json', '--config', configPath])).stdout) as { job: { state: string } };
      expect(status.job.state).toBe('done');
      const sections = readStatsOf(home.paths.mainDb).library.sections;
      expect(sections.map((s) => [s.title, s.counts.movie, s.counts.track])).toEqual([
        ['Movies', 6, 0],
        ['Music', 0, 3],
      ]);
    },
  );
});
