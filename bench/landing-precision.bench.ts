/**
 * B5: landing precision. Budgets that end in Sonic, run after run on one library as a user's
 * nightly bursts do (the local provider, plex-sim analysing a track every 2.5 s): for each run,
 * the reserve the controller estimated for plex-stop, export, upload and teardown against what
 * the landing took (its order to the machine's deletion), and how far before the cap the machine
 * was gone. The baseline is the estimate itself, made in the same run: a ratio above 1 is a
 * landing slower than estimated (the cap would delete the machine if the margin did not cover it).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { JobReport } from '@plexlift/shared';
import { startPlexTvSim } from '../test/plex-tv-sim/plex-tv-sim.js';
import { FAST_IDLE } from '../test/utils/fast-idle.js';
import { freePort } from '../test/utils/free-port.js';
import { createHomePlex } from '../test/utils/home-plex.js';
import { startPlexliftDaemon, writeLocalJobConfig, type PlexliftDaemon } from '../test/utils/plexlift-daemon.js';
import { serveBucket } from '../test/utils/rclone-mount.js';
import { runCli } from '../test/utils/run-cli.js';
import { Report } from './lib/report.js';

const OWNER_TOKEN = 'owner-bench-Lq27vRt8Xw3';
/** Each run's budget, in hours: 90 to 120 s, each ending in the middle of Sonic. */
const BUDGETS_HOURS = [0.025, 0.03, 0.025, 0.0333];
const TRACKS = 240; // 2.5 s each: 600 s of Sonic, more than the four budgets leave

interface JobView {
  id: string;
  createdAt: number;
  report?: JobReport;
}

interface Landing {
  budgetSeconds: number;
  orderedAfter: number;
  reserve: number;
  actual: number;
  deletedAfter: number;
  tracks: number;
  overran: boolean;
}

export async function landingPrecisionBench(): Promise<Report> {
  const report = new Report('B5 landing precision (budgets that end in Sonic, local provider)');
  const dir = mkdtempSync(join(tmpdir(), 'plexlift-b5-'));
  const home = await createHomePlex(join(dir, 'home'), { sections: ['artist'], media: { artists: 4, albums: 1, tracks: TRACKS / 4 } });
  const bucket = await serveBucket(join(home.dir, 'media'));
  const tv = await startPlexTvSim({ accountToken: OWNER_TOKEN });
  const configDir = join(dir, 'plexlift');
  mkdirSync(configDir);
  const configPath = writeLocalJobConfig({
    dir: configDir,
    port: await freePort(),
    home,
    plexTvUrl: tv.url,
    plexToken: OWNER_TOKEN,
    remote: bucket.remote,
    knobs: { speed: 200, timings: { sonicTrackMs: 500_000 } },
    tuning: {
      idle: FAST_IDLE,
      sonic: { intervalMs: 100, timeoutMs: 3_600_000, tracker: { stallReadings: 50 } },
      readyTimeoutMs: 30_000,
      cpuSampleMs: 500,
      mountCheckMs: 1_000,
    },
  });
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as { server: Record<string, unknown> };
  config.server.landingMarginSeconds = 2;
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const cli = (args: string[], timeoutMs = 60_000) => runCli([...args, '--config', configPath], { timeoutMs });

  const landings: Landing[] = [];
  let daemon: PlexliftDaemon | undefined;
  try {
    daemon = await startPlexliftDaemon(configPath);
    for (const [i, hours] of BUDGETS_HOURS.entries()) {
      const before = analysedTracks(home.paths.mainDb);
      const run = await cli(['run', '--mode', 'delta', '--max-hours', String(hours), '--wait'], 600_000);
      if (run.status !== 0) throw new Error(`run ${i + 1}: plexlift run exited ${run.status}: ${run.stderr}\n${daemon.log()}`);
      const [job] = JSON.parse((await cli(['jobs', '--json'])).stdout) as JobView[];
      const landed = job?.report?.landed;
      if (!job || !landed) throw new Error(`run ${i + 1} did not land: ${run.stderr}`);
      const events = (await cli(['logs', job.id, '--json'])).stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { at: number; event: { type: string; phase?: string } });
      const torn = events.find((e) => e.event.type === 'phase:complete' && e.event.phase === 'teardown');
      if (!torn) throw new Error(`run ${i + 1}: no teardown in the job's log`);
      const landing: Landing = {
        budgetSeconds: hours * 3_600,
        orderedAfter: (landed.requestedAt - job.createdAt) / 1000,
        reserve: landed.reserveSeconds ?? Number.NaN,
        actual: landed.actualSeconds ?? Number.NaN,
        deletedAfter: (torn.at - job.createdAt) / 1000,
        tracks: analysedTracks(home.paths.mainDb) - before,
        overran: landed.overran === true,
      };
      landings.push(landing);
      console.log(
        `run ${i + 1}: reserve ${landing.reserve.toFixed(1)} s, landing took ${landing.actual.toFixed(1)} s, deleted ${(landing.budgetSeconds - landing.deletedAfter).toFixed(1)} s before the cap`,
      );
    }
  } finally {
    await daemon?.stop();
    await tv.close();
    await bucket.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  report.line(
    `${BUDGETS_HOURS.length} runs on one library of ${TRACKS} tracks (plex-sim: 2.5 s of Sonic per track), each continuing the last, as nightly bursts do; landing margin 2 s. ` +
      'The reserve is what the controller estimated, when it ordered the landing, for plex-stop, export, upload and teardown (from the library, the rates of this job and of past ones); the landing is that order to the machine\u2019s deletion.',
  );
  report.line();
  report.table(
    ['run', 'budget', 'landing ordered', 'reserve (estimate)', 'landing took', 'took / estimate', 'machine deleted', 'before the cap', 'tracks analysed'],
    landings.map((l, i) => [
      String(i + 1),
      `${l.budgetSeconds.toFixed(0)} s`,
      `at ${l.orderedAfter.toFixed(1)} s`,
      `${l.reserve.toFixed(1)} s`,
      `${l.actual.toFixed(1)} s`,
      `${(l.actual / l.reserve).toFixed(2)}`,
      `at ${l.deletedAfter.toFixed(1)} s`,
      l.overran ? '**overran**' : `${(l.budgetSeconds - l.deletedAfter).toFixed(1)} s`,
      String(l.tracks),
    ]),
  );
  const ratios = landings.map((l) => l.actual / l.reserve);
  const within = landings.every((l) => !l.overran && l.deletedAfter <= l.budgetSeconds);
  report.target('every machine deleted before its cap', within ? 'all' : 'not all', within);
  report.target(
    'landing within its estimate (took / estimate ≤ 1)',
    `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`,
    ratios.every((r) => r <= 1),
  );
  const unused = landings.map((l) => l.budgetSeconds - l.deletedAfter);
  report.line(
    `Budget left unused at the deletion: ${Math.min(...unused).toFixed(1)}–${Math.max(...unused).toFixed(1)} s of ${Math.min(...landings.map((l) => l.budgetSeconds)).toFixed(0)}–${Math.max(...landings.map((l) => l.budgetSeconds)).toFixed(0)} s: ` +
      'what the reserve kept beyond what the landing needed, plus up to one check of the budget (a twentieth of it, between 0.25 and 60 s).',
  );
  return report;
}

function analysedTracks(mainDb: string): number {
  const db = new Database(mainDb, { readonly: true });
  try {
    const row = db
      .prepare(
        `SELECT count(*) AS n FROM metadata_items WHERE metadata_type = 10 AND deleted_at IS NULL AND instr(extra_data, '"ms:musicAnalysisVersion"') > 0`,
      )
      .get() as { n: number };
    return row.n;
  } finally {
    db.close();
  }
}
