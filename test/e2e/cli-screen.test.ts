import { describe, expect, it, vi } from 'vitest';
import { runCli, startCliOnTerminal } from '../utils/run-cli.js';
import { readStatsOf } from '../utils/sqlite-files.js';
import { prepare } from './plexlift-fixture.js';

/** What a person sees on a terminal during a whole job: the bar of a long scan, the table, the install's steps. */
describe('plexlift on a terminal, end to end with the local provider', () => {
  it(
    'a scan of several seconds moves its bar item by item; --no-install shows the table of what shipped; install says when home Plex is down',
    { timeout: 240_000 },
    async () => {
      // 42 films at 250 ms each (50 s of Plex's time at the double's speed 200): about 10 s of scanning.
      const { home, configPath } = await prepare({ media: { movies: 40 }, knobs: { timings: { scanItemMs: 50_000 } } });
      const env = { PLEXLIFT_CONFIG: configPath };
      const run = startCliOnTerminal(['run', '--mode', 'scan', '--wait', '--no-install'], { env, timeoutMs: 200_000 });

      // Mid-scan, from Plex's own progress: percent, items/h and an ETA, before the section ends.
      await vi.waitFor(() => expect(run.screen()).toMatch(/\d+% \| [\d,]+ items\/h \| ETA \d+s \| scanning Movies: \d+ files \(\d+ %\)/), {
        timeout: 150_000,
        interval: 200,
      });
      const midScan = /(\d+)% \| [\d,]+ items\/h \| ETA \d+s \| scanning Movies: (\d+) files/.exec(run.screen());
      expect(Number(midScan?.[1])).toBeGreaterThan(0);
      expect(Number(midScan?.[1])).toBeLessThan(100);
      // Item by item: the files Plex has found so far, fewer than the section's 42.
      expect(Number(midScan?.[2])).toBeLessThan(42);
      expect(run.screen()).not.toContain('✓ scan');

      const ran = await run.exited;
      expect(ran.status, ran.output).toBe(0);
      expect(ran.output).toContain('✓ scan');
      // The job waits for plexlift install, and shows what it would bring: home's library before → the one the VM shipped.
      expect(ran.output).toMatch(/Movies +40 → 42 \(\+2\)/);
      expect(ran.output).toContain('(the new library as the VM shipped it, not installed yet: plexlift install counts it again at home first)');
      const jobId = /plexlift install (job-\S+)/.exec(ran.output)?.[1];
      expect(jobId, ran.output).toBeDefined();
      expect(readStatsOf(home.paths.mainDb).library.sections[0]?.counts.movie).toBe(40);

      // The install says when home Plex goes down and when it answers again, each step a line of its own.
      const install = startCliOnTerminal(['install', jobId!], { env, timeoutMs: 120_000 });
      const installed = await install.exited;
      expect(installed.status, installed.output).toBe(0);
      const steps = [
        'checking the new library (home Plex still runs)',
        'stopping home Plex',
        'home Plex is down: moving the new library in',
        'starting home Plex',
        'home Plex answers',
      ];
      let at = -1;
      for (const step of steps) {
        const found = installed.output.indexOf(step, at + 1);
        expect(found, `"${step}" after the step before it in:\n${installed.output}`).toBeGreaterThan(at);
        at = found;
      }
      expect(installed.output).not.toMatch(/0% \| … \| ETA … \| (stopping|home Plex)/);
      expect(installed.output).toMatch(/Movies +40 → 42 \(\+2\)/);
      expect(installed.output).not.toContain('as the VM shipped it');
      expect(readStatsOf(home.paths.mainDb).library.sections[0]?.counts.movie).toBe(42);
      expect((await runCli(['jobs', '--json'], { env })).stdout).toContain('"state": "done"');
    },
  );
});
