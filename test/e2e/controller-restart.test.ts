import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { PHASE_NAMES, type AgentEvent, type PhaseName } from '@plexlift/shared/protocol';
import { runCli } from '../utils/run-cli.js';
import { readStatsOf } from '../utils/sqlite-files.js';
import { prepare, serve } from './plexlift-fixture.js';

/** The phases that have started so far, read from the daemon's store as the CLI would see them. */
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

describe('the controller killed and restarted', () => {
  it('SIGKILL at each phase boundary, then a restart: every job completes, exactly one install each, nothing lost', { timeout: 300_000 }, async () => {
    const { home, dir, configPath } = await prepare({ daemon: false });
    const stateDir = join(dir, 'state');
    // Two jobs between them hit every boundary once (every other phase each).
    const groups = [PHASE_NAMES.filter((_, i) => i % 2 === 0), PHASE_NAMES.filter((_, i) => i % 2 === 1)];
    const killedAt: PhaseName[][] = [];
    const logs: string[] = [];
    let daemon = await serve(configPath);
    for (const targets of groups) {
      const started = await runCli(['run', '--mode', 'delta', '--json', '--config', configPath]);
      expect(started.status, started.stderr).toBe(0);
      const jobId = (JSON.parse(started.stdout) as { id: string }).id;
      const kills: PhaseName[] = [];
      for (const target of targets) {
        // Wait for the boundary (or for the job to be past it: a fast phase folds into the next),
        // then pull the plug.
        await vi.waitFor(
          () => {
            const phases = startedPhases(stateDir, jobId);
            const last = phases.at(-1);
            const isPast = last !== undefined && PHASE_NAMES.indexOf(last) > PHASE_NAMES.indexOf(target);
            expect(phases.includes(target) || isPast, `job ${jobId} at or past ${target}`).toBe(true);
          },
          { timeout: 60_000, interval: 25 },
        );
        if (!startedPhases(stateDir, jobId).includes(target)) continue;
        await daemon.kill();
        logs.push(daemon.log());
        kills.push(target);
        daemon = await serve(configPath);
      }
      killedAt.push(kills);
      const watched = await runCli(['status', jobId, '--watch', '--config', configPath]);
      expect(watched.status, `${watched.stderr}\n${[...logs, daemon.log()].join('\n--- restart ---\n')}`).toBe(0);
      const job = JSON.parse((await runCli(['status', jobId, '--json', '--config', configPath])).stdout) as {
        job: { state: string };
        phases: { phase: string; state: string }[];
      };
      expect(job.job.state).toBe('done');
      // Exactly one install: one completed install phase, one backup for this job.
      const db = new Database(join(stateDir, 'plexlift.db'), { readonly: true });
      const installs = db
        .prepare(`SELECT count(*) FROM events WHERE job_id = ? AND type = 'phase:complete' AND payload_json LIKE '%"phase":"install"%'`)
        .pluck()
        .get(jobId);
      const uploads = db
        .prepare(`SELECT count(*) FROM events WHERE job_id = ? AND type = 'phase:complete' AND payload_json LIKE '%"phase":"upload"%'`)
        .pluck()
        .get(jobId);
      db.close();
      expect(installs).toBe(1);
      expect(uploads, `killed at ${kills.join(', ')}`).toBe(1); // the agent's events: none lost, none doubled across the restarts
      const backups = JSON.parse((await runCli(['backups', 'list', '--json', '--config', configPath])).stdout) as { manifest: { jobId: string } }[];
      expect(backups.filter((b) => b.manifest.jobId === jobId)).toHaveLength(1);
    }
    // Each boundary was hit in one of the two jobs (the fast ones may fold into the next).
    expect(killedAt.flat().length).toBeGreaterThanOrEqual(12);
    expect(killedAt.flat()).toEqual(expect.arrayContaining(['provision', 'connect', 'scan', 'upload', 'teardown', 'install']));
    expect(readStatsOf(home.paths.mainDb).library.sections[0]?.counts.movie).toBe(6);
  });
});
