import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import type { ScheduleEntryView, LibraryProgress } from '../../packages/controller/src/jobs/job-control.js';
import { runCli } from '../utils/run-cli.js';
import { prepare, serve } from './plexlift-fixture.js';

/** Every 3 s (croner's six fields, seconds first): a firing comes several times while a job runs. */
const EVERY_3_SECONDS = '*/3 * * * * *';

describe('scheduled bursts in the daemon', () => {
  it(
    'an entry with a seconds-level cron starts a job, skips while it is live (recorded), and stops after until: complete once progress says nothing is left',
    { timeout: 240_000 },
    async () => {
      const { configPath } = await prepare({ daemon: false });
      const config = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
      config.schedule = [{ name: 'test-burst', cron: EVERY_3_SECONDS, windowHours: 1, run: { mode: 'delta' }, until: 'complete' }];
      writeFileSync(configPath, JSON.stringify(config, null, 2));
      const daemon = await serve(configPath);
      const cli = async <T>(args: string[]) => JSON.parse((await runCli([...args, '--json', '--config', configPath])).stdout) as T;
      // Home has tracks Sonic has not analysed: there is work left.
      expect((await cli<LibraryProgress>(['progress'])).complete).toBe(false);

      // The daemon starts the entry's run (its latest start is inside its window, or the next one comes within 3 s).
      await vi.waitFor(() => expect(daemon.log()).toMatch(/schedule test-burst: the start of [\dT:.Z-]+ started job job-/), { timeout: 30_000, interval: 100 });
      const jobId = /schedule test-burst: the start of [\dT:.Z-]+ started job (job-[\w-]+)/.exec(daemon.log())![1]!;
      const [job] = await cli<{ id: string; options: { schedule?: string; deadline?: number } }[]>(['jobs']);
      expect(job).toMatchObject({ id: jobId, options: { schedule: 'test-burst', deadline: expect.any(Number) } });

      // While it runs, the next firings are skipped, and the skip is what `schedule` shows last.
      await vi.waitFor(
        async () => {
          const [entry] = await cli<ScheduleEntryView[]>(['schedule']);
          expect(entry?.last).toMatchObject({
            outcome: 'skipped',
            detail: expect.stringMatching(new RegExp(`^job ${jobId} is still \\w+ on this library; one job at a time`)),
          });
        },
        { timeout: 30_000, interval: 500 },
      );
      expect(daemon.log()).toMatch(new RegExp(`schedule test-burst: the start of [\\dT:.Z-]+ skipped: job ${jobId} is still`));

      const watched = await runCli(['status', jobId, '--watch', '--config', configPath], { timeoutMs: 180_000 });
      expect(watched.status, `${watched.stderr}\n${daemon.log()}`).toBe(0);
      expect((await cli<LibraryProgress>(['progress'])).complete).toBe(true);

      // The next firing reads the progress: complete, so the entry stops.
      await vi.waitFor(
        async () => {
          const [entry] = await cli<ScheduleEntryView[]>(['schedule']);
          expect(entry).toMatchObject({ finished: true });
          expect(entry?.nextStart).toBeUndefined();
        },
        { timeout: 30_000, interval: 500 },
      );
      expect(daemon.log()).toMatch(/schedule test-burst: complete, nothing is left to do; no more runs \(until: complete\)/);
      // Two more periods pass: no run is started, and nothing more is recorded.
      const [finished] = await cli<ScheduleEntryView[]>(['schedule']);
      await sleep(6_500);
      expect((await cli<{ id: string }[]>(['jobs'])).map((j) => j.id)).toEqual([jobId]);
      expect((await cli<ScheduleEntryView[]>(['schedule']))[0]?.last).toEqual(finished!.last);
      expect((await runCli(['schedule', '--config', configPath])).stdout).toMatch(
        /^test-burst +\*\/3 \* \* \* \* \* +1 h +none: complete \(until: complete\) +skipped: /m,
      );
    },
  );
});
