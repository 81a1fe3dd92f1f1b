import { readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import type { JobReport } from '@plexlift/shared';
import type { LibraryProgress } from '../../packages/controller/src/jobs/job-control.js';
import { runCli } from '../utils/run-cli.js';
import { startThrottlingProxy } from '../utils/throttling-proxy.js';
import { prepare, serve } from './plexlift-fixture.js';

/** Tracks analysed by Sonic in the home library, and all of them. */
function homeSonic(mainDb: string): { analyzed: number; total: number } {
  const db = new Database(mainDb, { readonly: true });
  try {
    return db
      .prepare(
        `SELECT count(*) AS total, coalesce(sum(instr(extra_data, '"ms:musicAnalysisVersion"') > 0), 0) AS analyzed
           FROM metadata_items WHERE metadata_type = 10 AND deleted_at IS NULL`,
      )
      .get() as { analyzed: number; total: number };
  } finally {
    db.close();
  }
}

interface JobView {
  id: string;
  state: string;
  createdAt: number;
  phase?: string;
  report?: JobReport;
}

describe('bursts: a budget lands the work, the next run goes on from there', () => {
  it(
    'a budget that ends in Sonic lands the job within its cap; a second run continues, a third completes; progress shows the three',
    { timeout: 600_000 },
    async () => {
      // 60 tracks at 2.5 s each: 150 s of Sonic, more than two 90 s budgets leave once the set-up
      // (20 to 50 s, depending on the machine's load) and the landing reserve are taken.
      const { home, configPath } = await prepare({
        daemon: false,
        media: { artists: 2, albums: 1, tracks: 30 },
        knobs: { timings: { sonicTrackMs: 500_000 } },
        sonic: { timeoutMs: 300_000 },
      });
      const config = JSON.parse(readFileSync(configPath, 'utf8')) as { server: Record<string, unknown> };
      config.server.landingMarginSeconds = 2;
      writeFileSync(configPath, JSON.stringify(config, null, 2));
      await serve(configPath);
      const cli = (args: string[], timeoutMs = 60_000) => runCli([...args, '--config', configPath], { timeoutMs });
      const start = homeSonic(home.paths.mainDb);
      expect(start.total).toBe(60);
      // `land` of a job the daemon does not have is a usage error.
      expect(await cli(['land', 'job-nope'])).toMatchObject({ status: 2, stdout: '', stderr: expect.stringMatching(/no job job-nope/) });

      const budgetHours = 0.025; // 90 s
      const first = await cli(['run', '--mode', 'delta', '--max-hours', String(budgetHours), '--wait'], 240_000);
      expect(first.status, first.stderr).toBe(0);
      expect(first.stderr).toMatch(/lands its work before 0\.025 h/);
      expect(first.stderr).toMatch(/landed \(its lifetime cap of 0\.025 h is \d+ s away/);
      expect(first.stderr).toMatch(/Run again to continue/);
      const afterFirst = homeSonic(home.paths.mainDb);
      expect(afterFirst.analyzed, first.stderr).toBeGreaterThan(start.analyzed);
      expect(afterFirst.analyzed).toBeLessThan(afterFirst.total);

      const list = async () => JSON.parse((await cli(['jobs', '--json'])).stdout) as JobView[];
      const [landed] = await list();
      const report = landed!.report!;
      expect(report.landed?.unfinished).toContain('sonic');
      expect(report.sonicSections?.[0]).toMatchObject({ before: { analyzed: start.analyzed, total: 60 }, after: { analyzed: afterFirst.analyzed, total: 60 } });
      // The machine's life (provision to teardown) stayed within the cap.
      const events = (await cli(['logs', landed!.id, '--json'])).stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { at: number; event: { type: string; phase?: string } });
      const torn = events.find((e) => e.event.type === 'phase:complete' && e.event.phase === 'teardown')!;
      expect((torn.at - landed!.createdAt) / 3_600_000).toBeLessThan(budgetHours);
      const ordered = events.find((e) => e.event.type === 'log' && /^landing: /.test((e.event as { message?: string }).message ?? ''))!;
      expect(Math.abs(report.landed!.requestedAt - ordered.at), JSON.stringify(report.landed)).toBeLessThan(1_000);
      expect(report.landed?.reserveSeconds).toBeGreaterThan(0);
      // What the landing took: its order to the machine's deletion.
      expect(Math.abs(report.landed!.actualSeconds! - (torn.at - ordered.at) / 1000), first.stderr).toBeLessThanOrEqual(1);
      // The report as a person reads it: incomplete, what is left.
      const status = await cli(['status', landed!.id]);
      expect(status.stdout).toMatch(/incomplete: landed/);
      expect(status.stdout).toMatch(
        new RegExp(
          `Sonic Music: ${start.analyzed} → ${afterFirst.analyzed} of 60 tracks \\(\\+${afterFirst.analyzed - start.analyzed}\\), ${60 - afterFirst.analyzed} left`,
        ),
      );
      const progressAfterFirst = JSON.parse((await cli(['progress', '--json'])).stdout) as LibraryProgress;
      expect(progressAfterFirst.remaining.tracks).toBe(60 - afterFirst.analyzed);
      expect(progressAfterFirst.estimate?.hours).toBeGreaterThan(0);
      expect(progressAfterFirst.complete).toBe(false);

      const second = await cli(['run', '--mode', 'delta', '--max-hours', String(budgetHours), '--wait'], 240_000);
      expect(second.status, second.stderr).toBe(0);
      const afterSecond = homeSonic(home.paths.mainDb);
      expect(afterSecond.analyzed).toBeGreaterThan(afterFirst.analyzed);

      const third = await cli(['run', '--mode', 'delta', '--wait'], 400_000);
      expect(third.status, third.stderr).toBe(0);
      expect(third.stderr).not.toMatch(/landed/);
      expect(homeSonic(home.paths.mainDb)).toEqual({ analyzed: 60, total: 60 });

      const progress = JSON.parse((await cli(['progress', '--json'])).stdout) as LibraryProgress;
      expect(progress.runs.map((r) => r.outcome)).toEqual(['complete', 'landed', 'landed']);
      expect(progress.remaining.tracks).toBe(0);
      expect(progress.complete).toBe(true);
    },
  );
  it(
    'a landing that overruns the cap (the upload turned slow): the machine is deleted at the cap, nothing installed, the report shows the reserve against what it took',
    { timeout: 300_000 },
    async () => {
      const { home, configPath } = await prepare({
        daemon: false,
        media: { artists: 2, albums: 1, tracks: 30 },
        knobs: { timings: { sonicTrackMs: 300_000 } },
      });
      // The agents reach the daemon through a link whose upload can be slowed.
      const config = JSON.parse(readFileSync(configPath, 'utf8')) as { server: Record<string, unknown> };
      const proxy = await startThrottlingProxy(config.server.port as number);
      onTestFinished(() => proxy.close());
      config.server.landingMarginSeconds = 1;
      config.server.publicUrl = `https://${proxy.address}`;
      writeFileSync(configPath, JSON.stringify(config, null, 2));
      await serve(configPath);
      const cli = (args: string[], timeoutMs = 60_000) => runCli([...args, '--config', configPath], { timeoutMs });
      const before = homeSonic(home.paths.mainDb);
      const started = await cli(['run', '--mode', 'delta', '--max-hours', '0.015', '--json']);
      expect(started.status, started.stderr).toBe(0);
      const jobId = (JSON.parse(started.stdout) as { id: string }).id;
      // Once Plex works (the scan), the upload direction turns to a trickle: the landing, in
      // whichever phase the machine's load lets the budget end, cannot make it.
      await vi.waitFor(
        async () => {
          const [job] = JSON.parse((await cli(['jobs', '--json'])).stdout) as JobView[];
          expect(['scan', 'warm', 'analyze', 'refresh', 'stabilize', 'sonic']).toContain(job?.phase);
        },
        { timeout: 60_000, interval: 250 },
      );
      proxy.throttle(2_000);
      const watched = await cli(['status', jobId, '--watch'], 180_000);
      expect(watched.status, watched.stderr).toBe(6);
      expect(watched.stderr).toMatch(/the job reached its lifetime cap of 0\.015 h; its machine is deleted/);
      const [job] = JSON.parse((await cli(['jobs', '--json'])).stdout) as JobView[];
      expect(job!.state).toBe('failed');
      // The machine was deleted at the cap (its deletion takes seconds), not when the landing would have ended.
      const events = (await cli(['logs', jobId, '--json'])).stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { at: number; event: { type: string; phase?: string } });
      const torn = events.find((e) => e.event.type === 'phase:complete' && e.event.phase === 'teardown');
      expect(torn, watched.stderr).toBeDefined();
      expect((torn!.at - job!.createdAt) / 1000).toBeLessThan(0.015 * 3600 + 20);
      const landed = job!.report!.landed!;
      expect(landed.overran).toBe(true);
      expect(landed.reserveSeconds).toBeGreaterThan(0);
      // It took at least the time left when it was ordered: the cap came first.
      const away = Number(/is (\d+) s away/.exec(landed.reason)?.[1]);
      expect(landed.actualSeconds, landed.reason).toBeGreaterThanOrEqual(away - 1);
      expect((await cli(['status', jobId])).stdout).toMatch(
        new RegExp(`landing: ${landed.reserveSeconds} s reserved, ${landed.actualSeconds} s taken; it overran the cap`),
      );
      // Home is as it was: nothing installed.
      expect(homeSonic(home.paths.mainDb)).toEqual(before);
    },
  );
});
