import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PlexliftError } from '@plexlift/shared';
import { PlexClient, applyPreferences } from '@plexlift/shared/plex-api';
import { parseJobSpec, type AgentEvent, type AgentPhaseName } from '@plexlift/shared/protocol';
import type { JobState } from '../../packages/agent/src/job-state.js';
import { runPhases } from '../../packages/agent/src/phase-runner.js';
import type { AnyPhase } from '../../packages/agent/src/phases/phase.js';
import { plexStart } from '../../packages/agent/src/phases/plex-start.js';
import { analyze } from '../../packages/agent/src/phases/analyze.js';
import { plexStop } from '../../packages/agent/src/phases/plex-stop.js';
import { refresh } from '../../packages/agent/src/phases/refresh.js';
import { scan } from '../../packages/agent/src/phases/scan.js';
import { sonic } from '../../packages/agent/src/phases/sonic.js';
import { stabilize } from '../../packages/agent/src/phases/stabilize.js';
import { warm } from '../../packages/agent/src/phases/warm.js';
import { startTestSim } from '../plex-sim/sim-fixture.js';
import { homeLineStub, jobStateFor } from '../utils/agent-job-state.js';
import { createLocalPlex } from '../utils/local-plex.js';
import { createMediaTree } from '../utils/media-tree.js';
import { readStatsOf } from '../utils/sqlite-files.js';
import { createTempDir } from '../utils/temp-dir.js';
import { FAST_IDLE } from '../utils/fast-idle.js';

function job(extra: Record<string, unknown> = {}) {
  return parseJobSpec({
    jobId: 'job-land',
    mode: 'delta',
    plex: { version: '1.43.2.10687-563d026ea' },
    media: { mountPath: '/Media', remote: 'r:' },
    ...extra,
  });
}

function recorder() {
  const events: AgentEvent[] = [];
  return { events, report: (event: AgentEvent) => events.push(event) };
}

function completed(events: AgentEvent[], phase: AgentPhaseName): Record<string, unknown> | undefined {
  const event = events.find((e) => e.type === 'phase:complete' && e.phase === phase);
  return event?.type === 'phase:complete' ? event.summary : undefined;
}

/** A long phase's work: until its signal aborts (rejecting with the reason), or `ms` (then it says it finished). */
function longWork(signal: AbortSignal, ms = 2_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => resolve({ finished: true }), ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    });
  });
}

const mustNotRun = (name: AgentPhaseName): AnyPhase => ({ name, landable: true, run: () => Promise.reject(new Error(`${name} must not run`)) });

describe('landing, in the phase runner', () => {
  it('a landing during a landable phase completes it as landed, skips the landable phases after it, and runs the others', async () => {
    const landing = new AbortController();
    const seen: Partial<Record<AgentPhaseName, boolean>> = {};
    const phases: AnyPhase[] = [
      { name: 'scan', run: () => Promise.resolve({ sections: 1 }) },
      {
        name: 'warm',
        landable: true,
        run: ({ signal }) => {
          setTimeout(() => landing.abort(new PlexliftError('UNEXPECTED', 'budget')), 20);
          return longWork(signal);
        },
      },
      mustNotRun('analyze'),
      { name: 'refresh', landable: true, applies: (j) => j.forceRefresh, run: () => Promise.reject(new Error('refresh must not run')) },
      mustNotRun('stabilize'),
      mustNotRun('sonic'),
      {
        name: 'plex-stop',
        run: ({ signal, landing: given }) => {
          seen['plex-stop'] = given.aborted && !signal.aborted;
          return Promise.resolve({ clean: true });
        },
      },
      { name: 'export', run: ({ signal }) => longWork(signal, 10) },
    ];
    const { events, report } = recorder();
    const run = await runPhases(phases, { job: job(), state: {} as JobState, signal: new AbortController().signal, landing: landing.signal, report });

    expect(completed(events, 'warm')).toEqual({ landed: true, durationMs: expect.any(Number) });
    for (const phase of ['analyze', 'stabilize', 'sonic'] as const) expect(completed(events, phase)).toEqual({ skipped: true, landed: true });
    // A phase the job never needed is not "landed": it would not have run anyway.
    expect(completed(events, 'refresh')).toEqual({ skipped: true });
    expect(completed(events, 'plex-stop')).toMatchObject({ clean: true });
    expect(completed(events, 'export')).toMatchObject({ finished: true });
    expect(seen['plex-stop']).toBe(true);
    expect(run.completed).toEqual(['scan', 'warm', 'plex-stop', 'export']);
    expect(run.landed).toEqual(['warm', 'analyze', 'stabilize', 'sonic']);
    expect(run.skipped).toEqual(['analyze', 'refresh', 'stabilize', 'sonic']);
    expect(events.filter((e) => e.type === 'phase:start').map((e) => ('phase' in e ? e.phase : ''))).toEqual(['scan', 'warm', 'plex-stop', 'export']);
    expect(events.some((e) => e.type === 'phase:fail')).toBe(false);
  });

  it('a landing before a landable phase skips it; a non-landable phase in flight is not stopped; a phase that catches the landing keeps its counts', async () => {
    const landing = new AbortController();
    const phases: AnyPhase[] = [
      {
        name: 'preflight',
        // Not landable: the landing does not reach its signal, it ends its work.
        run: async ({ signal }) => {
          landing.abort(new PlexliftError('UNEXPECTED', 'land now'));
          return { interrupted: signal.aborted, ...(await longWork(signal, 30)) };
        },
      },
      { name: 'scan', run: ({ landing: given }) => Promise.resolve({ sawLanding: given.aborted }) },
      mustNotRun('warm'),
      mustNotRun('analyze'),
      mustNotRun('sonic'),
      { name: 'plex-stop', run: () => Promise.resolve({ clean: true }) },
    ];
    const { events, report } = recorder();
    const run = await runPhases(phases, { job: job(), state: {} as JobState, signal: new AbortController().signal, landing: landing.signal, report });
    expect(completed(events, 'preflight')).toMatchObject({ interrupted: false, finished: true });
    expect(completed(events, 'scan')).toMatchObject({ sawLanding: true });
    expect(completed(events, 'warm')).toEqual({ skipped: true, landed: true });
    expect(run.landed).toEqual(['warm', 'analyze', 'sonic']);
    expect(run.completed).toEqual(['preflight', 'scan', 'plex-stop']);

    // A phase that catches the landing itself: its summary (counts) is kept, and it counts as landed.
    const second = new AbortController();
    const counting: AnyPhase[] = [
      {
        name: 'sonic',
        landable: true,
        run: async ({ signal, landing: given }) => {
          setTimeout(() => second.abort(), 10);
          await longWork(signal).catch(() => undefined);
          return given.aborted ? { analyzed: 3, total: 9, landed: true } : { analyzed: 9, total: 9 };
        },
      },
      { name: 'plex-stop', run: () => Promise.resolve({}) },
    ];
    const counted = recorder();
    const run2 = await runPhases(counting, {
      job: job(),
      state: {} as JobState,
      signal: new AbortController().signal,
      landing: second.signal,
      report: counted.report,
    });
    expect(completed(counted.events, 'sonic')).toEqual({ analyzed: 3, total: 9, landed: true, durationMs: expect.any(Number) });
    expect(run2.landed).toEqual(['sonic']);
  });

  it('an abort still fails the phase in flight: a landable one, landing or not, and one on the way home after a landing', async () => {
    for (const landFirst of [false, true]) {
      const abort = new AbortController();
      const landing = new AbortController();
      const phases: AnyPhase[] = [
        {
          name: 'analyze',
          landable: true,
          run: ({ signal }) => {
            if (landFirst) landing.abort(new PlexliftError('UNEXPECTED', 'land'));
            abort.abort(new PlexliftError('JOB_ABORTED', 'the user aborted'));
            return longWork(signal);
          },
        },
        { name: 'plex-stop', run: () => Promise.reject(new Error('plex-stop must not run')) },
      ];
      const { events, report } = recorder();
      await expect(runPhases(phases, { job: job(), state: {} as JobState, signal: abort.signal, landing: landing.signal, report })).rejects.toMatchObject({
        code: 'JOB_ABORTED',
        message: 'analyze was aborted: the user aborted',
      });
      expect(events.at(-1)).toMatchObject({ type: 'phase:fail', phase: 'analyze', code: 'JOB_ABORTED' });
    }

    // Landed, then aborted on the way home: the abort still fails the job where it is.
    const abort = new AbortController();
    const landing = new AbortController();
    const phases: AnyPhase[] = [
      {
        name: 'sonic',
        landable: true,
        run: ({ signal }) => {
          landing.abort(new PlexliftError('UNEXPECTED', 'land'));
          return longWork(signal);
        },
      },
      {
        name: 'export',
        run: ({ signal }) => {
          abort.abort(new PlexliftError('JOB_ABORTED', 'the user aborted'));
          return longWork(signal);
        },
      },
    ];
    const { events, report } = recorder();
    await expect(runPhases(phases, { job: job(), state: {} as JobState, signal: abort.signal, landing: landing.signal, report })).rejects.toMatchObject({
      code: 'JOB_ABORTED',
      message: 'export was aborted: the user aborted',
    });
    expect(completed(events, 'sonic')).toEqual({ landed: true, durationMs: expect.any(Number) });
    expect(events.at(-1)).toMatchObject({ type: 'phase:fail', phase: 'export', code: 'JOB_ABORTED' });
  });
});

describe('landing during Sonic, on a real Plex process', () => {
  it('completes the phase landed with the count the DB holds, and plex-stop keeps those tracks analysed', async () => {
    const dir = createTempDir();
    const media = createMediaTree(join(dir, 'media'), { movies: 0, shows: 0, artists: 2, albums: 2, tracks: 5 });
    // One track a second: slow enough that the landing, the read and the stop fit between two tracks.
    const { runtime, paths, claim, readToken } = await createLocalPlex(join(dir, 'vm'), { knobs: { timings: { sonicTrackMs: 200_000 } } });
    const state = jobStateFor({
      connection: homeLineStub({ claimToken: claim }),
      runtime,
      readPlexToken: readToken,
      readyTimeoutMs: 30_000,
      mainDb: paths.mainDb,
      workDir: dir,
      pmsDir: paths.pms,
      idle: FAST_IDLE,
      sonic: { intervalMs: 50, timeoutMs: 120_000, tracker: { stallReadings: 1_000 } },
      mountSample: [],
    });
    const spec = job({ media: { mountPath: join(dir, 'media'), remote: 'r:' } });
    await runPhases([plexStart], { job: spec, state, signal: new AbortController().signal, report: () => undefined });
    await state.plex!.createSection({ name: 'Music', type: 'artist', agent: '', scanner: '', language: 'en-US', locations: [media.roots.music] });

    const landing = new AbortController();
    const { events, report } = recorder();
    const run = await runPhases([scan, stabilize, sonic, plexStop], {
      job: spec,
      state,
      signal: new AbortController().signal,
      landing: landing.signal,
      report: (event) => {
        report(event);
        const analysed = event.type === 'phase:progress' && event.phase === 'sonic' ? /^(\d+) of/.exec(event.message ?? '') : null;
        if (analysed && Number(analysed[1]) >= 3) landing.abort(new PlexliftError('UNEXPECTED', 'budget'));
      },
    });

    const total = media.tracks.length;
    const summary = completed(events, 'sonic');
    expect(summary).toMatchObject({ landed: true, ran: true, total, analyzed: expect.any(Number), tracksPerHour: expect.any(Number) });
    const analyzed = summary!.analyzed as number;
    expect(analyzed).toBeGreaterThan(0);
    expect(analyzed).toBeLessThan(total);
    expect(run.completed).toEqual(['scan', 'stabilize', 'sonic', 'plex-stop']);
    expect(run.landed).toEqual(['sonic']);
    expect(runtime.isRunning()).toBe(false);
    // What Plex analysed before it was stopped is in its DB, checkpointed.
    expect(readStatsOf(paths.mainDb).sonic).toEqual([{ sectionId: 1, analyzed, total }]);
  });
});

describe('landing during warm, analyze and refresh, on the Plex double', () => {
  /** Three scanned sections, and the phases run after a scan with the landing ordered when `at` sees its event. */
  async function landIn(phases: AnyPhase[], at: (event: AgentEvent) => boolean, extra: Record<string, unknown> = {}) {
    const test = await startTestSim({ media: { movies: 3, shows: 1, seasons: 1, episodes: 2, artists: 1, albums: 1, tracks: 2 } });
    await test.addSection('Movies', 'movie', test.media.roots.movies);
    await test.addSection('TV Shows', 'show', test.media.roots.tv);
    await test.addSection('Music', 'artist', test.media.roots.music);
    const state = jobStateFor({
      plex: new PlexClient({ url: test.sim.url }),
      mountSample: [],
      mainDb: test.sim.paths.mainDb,
      workDir: test.dir,
      pmsDir: test.sim.paths.pms,
      idle: FAST_IDLE,
    });
    const landing = new AbortController();
    const { events, report } = recorder();
    const run = await runPhases([scan, ...phases], {
      job: job({ media: { mountPath: dirname(test.media.roots.movies), remote: 'r:' }, ...extra }),
      state,
      signal: new AbortController().signal,
      landing: landing.signal,
      report: (event) => {
        report(event);
        if (at(event)) landing.abort(new PlexliftError('UNEXPECTED', 'budget'));
      },
    });
    return { run, events };
  }
  const progressOf = (phase: AgentPhaseName, message: RegExp) => (event: AgentEvent) =>
    event.type === 'phase:progress' && event.phase === phase && message.test(event.message ?? '');

  it('warm: stops with the sections warmed so far; analyze and refresh are skipped', async () => {
    const { run, events } = await landIn([warm, analyze, refresh], progressOf('warm', /^Movies: /), { forceRefresh: true });
    const summary = completed(events, 'warm')!;
    expect(summary).toMatchObject({ landed: true });
    expect(Object.keys(summary.sections as object)).not.toContain('Music');
    expect(completed(events, 'analyze')).toEqual({ skipped: true, landed: true });
    expect(completed(events, 'refresh')).toEqual({ skipped: true, landed: true });
    expect(run.landed).toEqual(['warm', 'analyze', 'refresh']);
  });

  it('analyze: stops after the section under way, naming the sections analysed; no Butler task is started', async () => {
    const { run, events } = await landIn([analyze, refresh], progressOf('analyze', /^Movies analysed$/), { forceRefresh: true });
    const summary = completed(events, 'analyze')!;
    expect(summary).toMatchObject({ landed: true, butlerTasks: {} });
    expect(Object.keys(summary.sections as object)).toEqual(['Movies']);
    expect(completed(events, 'refresh')).toEqual({ skipped: true, landed: true });
    expect(run.landed).toEqual(['analyze', 'refresh']);
  });

  it('refresh: stops at the section under way, naming the sections refreshed', async () => {
    const { run, events } = await landIn([refresh], progressOf('refresh', /of TV Shows$/), { forceRefresh: true });
    expect(completed(events, 'refresh')).toMatchObject({ sections: ['Movies'], landed: true });
    expect(run.landed).toEqual(['refresh']);
    expect(run.completed).toEqual(['scan', 'refresh']);
  });
});

describe('landing during a scan', () => {
  /** Three sections scanned once, then a file added to each: a rescan of a section finds its new one. */
  async function library() {
    const test = await startTestSim({ media: { movies: 3, shows: 1, seasons: 1, episodes: 2, artists: 1, albums: 1, tracks: 2 } });
    await test.addSection('Movies', 'movie', test.media.roots.movies);
    await test.addSection('TV Shows', 'show', test.media.roots.tv);
    await test.addSection('Music', 'artist', test.media.roots.music);
    const client = new PlexClient({ url: test.sim.url });
    await applyPreferences(client, { autoEmptyTrash: false });
    for (const path of [
      join(test.media.roots.movies, 'New Film (2024)', 'New Film (2024).mkv'),
      join(test.media.roots.tv, 'The Office (US)', 'Season 01', 'The Office (US) - S01E09.mkv'),
      join(test.media.roots.music, 'Sigur Rós', 'Album 1', '09 - Song 9.flac'),
    ]) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, Buffer.alloc(8192, 7));
    }
    const state = jobStateFor({
      plex: client,
      mountSample: [],
      mainDb: test.sim.paths.mainDb,
      workDir: test.dir,
      pmsDir: test.sim.paths.pms,
      idle: FAST_IDLE,
    });
    const landing = new AbortController();
    const events: AgentEvent[] = [];
    // The landing arrives while the first section is being scanned.
    const report = (event: AgentEvent) => {
      events.push(event);
      if (event.type === 'phase:progress' && event.phase === 'scan' && event.message?.startsWith('scanning '))
        landing.abort(new PlexliftError('UNEXPECTED', 'budget'));
    };
    const counts = () => readStatsOf(test.sim.paths.mainDb).library.sections.map((s) => [s.title, s.counts.movie + s.counts.episode + s.counts.track]);
    return { test, state, landing, events, report, counts };
  }

  it('in a delta job: finishes the section under way, scans no other, and completes landed (the others ship as home had them)', async () => {
    const { state, landing, events, report, counts } = await library();
    expect(counts()).toEqual([
      ['Movies', 3],
      ['TV Shows', 2],
      ['Music', 2],
    ]);
    const run = await runPhases([scan, warm], { job: job(), state, signal: new AbortController().signal, landing: landing.signal, report });
    expect(counts()).toEqual([
      ['Movies', 4],
      ['TV Shows', 2],
      ['Music', 2],
    ]);
    expect(completed(events, 'scan')).toMatchObject({
      landed: true,
      sectionsScanned: ['Movies'],
      sectionsLeft: ['TV Shows', 'Music'],
      sections: { Movies: { before: 3, lost: 0 } },
    });
    expect(Object.keys(completed(events, 'scan')!.sections as object)).toEqual(['Movies']);
    expect(completed(events, 'warm')).toEqual({ skipped: true, landed: true });
    expect(run.completed).toEqual(['scan']);
    expect(run.landed).toEqual(['scan', 'warm']);
  });

  it('in a scan job: finishes the section under way, then stops the job naming the sections not scanned, with nothing installed', async () => {
    const test = await startTestSim({ media: { movies: 3, shows: 1, seasons: 1, episodes: 2, artists: 1, albums: 1, tracks: 2 } });
    await test.sim.ready;
    const client = new PlexClient({ url: test.sim.url });
    const state = jobStateFor({
      plex: client,
      mountSample: [],
      mainDb: test.sim.paths.mainDb,
      workDir: test.dir,
      pmsDir: test.sim.paths.pms,
      idle: FAST_IDLE,
    });
    const spec = job({
      mode: 'scan',
      media: { mountPath: dirname(test.media.roots.movies), remote: 'r:' },
      libraries: [
        { name: 'Films', type: 'movie', locations: [test.media.roots.movies] },
        { name: 'Series', type: 'show', locations: [test.media.roots.tv] },
        { name: 'Music', type: 'artist', locations: [test.media.roots.music] },
      ],
    });
    const landing = new AbortController();
    const events: AgentEvent[] = [];
    const report = (event: AgentEvent) => {
      events.push(event);
      if (event.type === 'phase:progress' && event.message === 'scanning Films') landing.abort(new PlexliftError('UNEXPECTED', 'budget'));
    };
    await expect(runPhases([scan, warm], { job: spec, state, signal: new AbortController().signal, landing: landing.signal, report })).rejects.toMatchObject({
      code: 'SAFETY_STOP',
      exitCode: 6,
      message:
        'the job landed before sections "Series", "Music" were scanned: a scan job builds the library from nothing, so they would reach home empty; nothing is installed; run again with a larger budget',
    });
    // Films was waited for to the end before the scan stopped.
    expect(events.find((e) => e.type === 'phase:progress' && e.message === 'Films: 3 files')).toBeDefined();
    expect(events.some((e) => e.type === 'phase:progress' && e.message === 'scanning Series')).toBe(false);
    expect(events.at(-1)).toMatchObject({ type: 'phase:fail', phase: 'scan', code: 'SAFETY_STOP' });
  });
});
