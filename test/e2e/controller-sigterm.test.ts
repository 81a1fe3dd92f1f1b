import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import type { AgentEvent, PhaseName } from '@plexlift/shared/protocol';
import { runCli } from '../utils/run-cli.js';
import { readStatsOf } from '../utils/sqlite-files.js';
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
      const { home, dir, configPath } = await prepare({ daemon: false });
      const stateDir = join(dir, 'state');
      let daemon = await serve(configPath);
      const started = await runCli(['run', '--mode', 'delta', '--json', '--config', configPath]);
      expect(started.status, started.stderr).toBe(0);
      const jobId = (JSON.parse(started.stdout) as { id: string }).id;
      const stops: { at: PhaseName; seconds: number }[] = [];
      const logs: string[] = [];
      for (const target of ['provision', 'scan', 'upload', 'teardown'] as PhaseName[]) {
        await vi.waitFor(() => expect(startedPhases(stateDir, jobId)).toContain(target), { timeout: 60_000, interval: 20 });
        const begun = performance.now();
        await daemon.stop();
        const seconds = (performance.now() - begun) / 1000;
        logs.push(daemon.log());
        stops.push({ at: target, seconds });
        // A graceful stop, not the forced exit of the deadline.
        expect(daemon.log(), `stopped at ${target}`).not.toMatch(/not stopped within|exiting now/);
        expect(daemon.log()).toMatch(/SIGTERM: stopping/);
        daemon = await serve(configPath);
      }
      for (const stop of stops) expect(stop.seconds, `SIGTERM during ${stop.at}`).toBeLessThan(10);
      // Where the job stood is said, and the next start takes it up.
      expect(logs.join('\n')).toMatch(new RegExp(`job ${jobId} left (provisioning|running|verified)`));
      const watched = await runCli(['status', jobId, '--watch', '--config', configPath], { timeoutMs: 120_000 });
      expect(watched.status, `${watched.stderr}\n${[...logs, daemon.log()].join('\n--- restart ---\n')}`).toBe(0);
      const status = JSON.parse((await runCli(['status', jobId, '--json', '--config', configPath])).stdout) as { job: { state: string } };
      expect(status.job.state).toBe('done');
      expect(readStatsOf(home.paths.mainDb).library.sections[0]?.counts.movie).toBe(6);
    },
  );
});
