import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJobSpec, type AgentEvent } from '@plexlift/shared/protocol';
import { runPhases } from '../../packages/agent/src/phase-runner.js';
import { analyze } from '../../packages/agent/src/phases/analyze.js';
import { plexStart } from '../../packages/agent/src/phases/plex-start.js';
import { plexStop } from '../../packages/agent/src/phases/plex-stop.js';
import { preflight } from '../../packages/agent/src/phases/preflight.js';
import { refresh } from '../../packages/agent/src/phases/refresh.js';
import { scan } from '../../packages/agent/src/phases/scan.js';
import { sonic } from '../../packages/agent/src/phases/sonic.js';
import { stabilize } from '../../packages/agent/src/phases/stabilize.js';
import { warm } from '../../packages/agent/src/phases/warm.js';
import { createMediaTree } from '../utils/media-tree.js';
import { readStatsOf } from '../utils/sqlite-files.js';
import { homeLineStub, jobStateFor } from '../utils/agent-job-state.js';
import { createLocalPlex } from '../utils/local-plex.js';
import { createTempDir } from '../utils/temp-dir.js';
import { FAST_IDLE } from '../utils/fast-idle.js';

/**
 * The Plex half of a job on a real Plex process (plex-sim) with the phases strung by the runner:
 * plex-start → preflight → scan → warm → analyze → refresh → stabilize → sonic → plex-stop.
 * A scan-mode library is created first, as the controller's spec would ask.
 */
async function plexJob(options: { subscriptionActive: boolean; forceRefresh?: boolean; analyses?: Record<string, boolean> }) {
  const dir = createTempDir();
  const media = createMediaTree(join(dir, 'media'), { movies: 4, artists: 2, albums: 2, tracks: 5 });
  const { runtime, paths, claim, readToken } = await createLocalPlex(join(dir, 'vm'), { subscriptionActive: options.subscriptionActive });
  const state = jobStateFor({
    connection: homeLineStub({ claimToken: claim }),
    runtime,
    readPlexToken: readToken,
    readyTimeoutMs: 30_000,
    mainDb: paths.mainDb,
    workDir: dir,
    pmsDir: paths.pms,
    idle: FAST_IDLE,
    sonic: { intervalMs: 100, timeoutMs: 60_000, tracker: { stallReadings: 50 } },
    mountSample: [],
  });
  const job = parseJobSpec({
    jobId: 'job-plex',
    mode: 'delta',
    plex: { version: '1.43.2.10687-563d026ea' },
    media: { mountPath: join(dir, 'media'), remote: 'r:' },
    forceRefresh: options.forceRefresh ?? false,
    analyses: options.analyses ?? {},
  });
  const events: AgentEvent[] = [];
  const report = (event: AgentEvent) => events.push(event);
  // The library as home would have it: created and scanned once on this Plex.
  await runPhases([plexStart], { job, state, signal: new AbortController().signal, report: () => undefined });
  for (const [name, type, location] of [
    ['Movies', 'movie', media.roots.movies],
    ['Music', 'artist', media.roots.music],
  ] as const) {
    await state.plex!.createSection({ name, type, agent: '', scanner: '', language: 'en-US', locations: [location] });
  }
  return { job, state, events, report, paths, media };
}

describe('the Plex phases of a job, on a real Plex process', () => {
  it('run in order and leave an analysed, Sonic-complete library with the DB checkpointed', async () => {
    const { job, state, events, report, paths, media } = await plexJob({ subscriptionActive: true, forceRefresh: true });
    const run = await runPhases([preflight, scan, warm, analyze, refresh, stabilize, sonic, plexStop], {
      job,
      state,
      signal: new AbortController().signal,
      report,
    });
    expect(run.completed).toEqual(['preflight', 'scan', 'warm', 'analyze', 'refresh', 'stabilize', 'sonic', 'plex-stop']);
    expect(events.filter((e) => e.type === 'phase:start').map((e) => ('phase' in e ? e.phase : ''))).toEqual(run.completed);
    const sonicProgress = events.filter((e) => e.type === 'phase:progress' && e.phase === 'sonic');
    expect(sonicProgress.some((e) => e.type === 'phase:progress' && e.etaMs !== undefined && e.rate?.unit === 'tracks/h')).toBe(true);
    // Checked before anything reads the DB: a read-only connection leaves its own -wal behind.
    expect(existsSync(`${paths.mainDb}-wal`)).toBe(false);
    const { library, sonic: sonicCounts } = readStatsOf(paths.mainDb);
    expect(library.sections.map((s) => [s.title, s.counts.movie + s.counts.track])).toEqual([
      ['Movies', media.movies.length],
      ['Music', media.tracks.length],
    ]);
    expect(sonicCounts).toEqual([{ sectionId: 2, analyzed: media.tracks.length, total: media.tracks.length }]);
    expect(state.runtime.isRunning()).toBe(false);
  });

  it('stops at Sonic without Plex Pass, saying so', async () => {
    const { job, state, report } = await plexJob({ subscriptionActive: false });
    await expect(runPhases([scan, stabilize, sonic], { job, state, signal: new AbortController().signal, report })).rejects.toMatchObject({
      code: 'SAFETY_STOP',
      message: expect.stringMatching(/Sonic analysis needs Plex Pass/),
    });
  });
});

describe('the choice of analyses, and a scan job', () => {
  it('runs the analyses the job chose (Plex defaults for the rest) with their real settings and Butler tasks, on every vCPU, and reports throughput', async () => {
    const { job, state, events, report, paths } = await plexJob({
      subscriptionActive: true,
      analyses: { previewThumbnails: true, loudness: false, introMarkers: false },
    });
    state.threads = 8;
    await runPhases([scan, analyze], { job, state, signal: new AbortController().signal, report });
    const prefs = new Map((await state.plex!.preferences()).map((p) => [p.id, p.value]));
    expect(
      Object.fromEntries(
        [
          'GenerateBIFBehavior',
          'GenerateChapterThumbBehavior',
          'GenerateCreditsMarkerBehavior',
          'GenerateIntroMarkerBehavior',
          'LoudnessAnalysisBehavior',
          'MusicAnalysisBehavior',
          'ButlerTaskDeepMediaAnalysis',
          'LongRunningJobThreads',
          'LoudnessAnalysisThreads',
        ].map((id) => [id, prefs.get(id)]),
      ),
    ).toEqual({
      GenerateBIFBehavior: 'asap',
      GenerateChapterThumbBehavior: 'asap',
      GenerateCreditsMarkerBehavior: 'asap',
      GenerateIntroMarkerBehavior: 'never',
      LoudnessAnalysisBehavior: 'never',
      MusicAnalysisBehavior: 'never', // Sonic waits for its own phase
      ButlerTaskDeepMediaAnalysis: true,
      LongRunningJobThreads: 8,
      LoudnessAnalysisThreads: 8,
    });
    const complete = events.find((e) => e.type === 'phase:complete' && e.phase === 'analyze') as Extract<AgentEvent, { type: 'phase:complete' }>;
    expect(complete.summary.analyses).toEqual(['deepMediaAnalysis', 'previewThumbnails', 'chapterThumbnails', 'creditsMarkers']);
    expect(Object.keys(complete.summary.butlerTasks as object)).toEqual([
      'DeepMediaAnalysis',
      'GenerateMediaIndexFiles',
      'GenerateChapterThumbs',
      'ButlerTaskGenerateCreditsMarkers',
    ]);
    expect((complete.summary.sections as Record<string, { files: number; filesPerHour: number }>).Movies).toMatchObject({
      files: 4,
      filesPerHour: expect.any(Number),
    });
    // Plex did the work: previews (BIF) for the films, the Butler's tasks in its log.
    const log = readFileSync(paths.log, 'utf8');
    expect(log).toMatch(/The butler performed deep analysis/);
    expect(log).toMatch(/The butler generated chapter thumbnails/);
    expect(readdirSync(paths.media, { recursive: true }).filter((f) => String(f).endsWith('.bif'))).toHaveLength(4);
    const scanComplete = events.find((e) => e.type === 'phase:complete' && e.phase === 'scan') as Extract<AgentEvent, { type: 'phase:complete' }>;
    expect((scanComplete.summary.sections as Record<string, { files: number; filesPerHour: number }>).Music).toMatchObject({
      files: 20,
      filesPerHour: expect.any(Number),
    });
    expect(events.some((e) => e.type === 'phase:progress' && e.phase === 'analyze' && e.rate?.unit === 'items/h')).toBe(true);
  });

  it('a scan job creates its libraries with the modern agents and waits for their first scan instead of starting a second one', async () => {
    const dir = createTempDir();
    const media = createMediaTree(join(dir, 'media'), { movies: 3, shows: 1, seasons: 1, episodes: 2 });
    const { runtime, paths, claim, readToken } = await createLocalPlex(join(dir, 'vm'));
    const state = jobStateFor({
      connection: homeLineStub({ claimToken: claim }),
      runtime,
      readPlexToken: readToken,
      readyTimeoutMs: 30_000,
      mainDb: paths.mainDb,
      workDir: dir,
      pmsDir: paths.pms,
      idle: FAST_IDLE,
      sonic: { intervalMs: 100, timeoutMs: 60_000, tracker: { stallReadings: 50 } },
      mountSample: [],
    });
    const job = parseJobSpec({
      jobId: 'job-scan',
      mode: 'scan',
      plex: { version: '1.43.2.10687-563d026ea' },
      media: { mountPath: join(dir, 'media'), remote: 'r:' },
      libraries: [
        { name: 'Films', type: 'movie', locations: [media.roots.movies] },
        { name: 'Series', type: 'show', locations: [media.roots.tv] },
      ],
    });
    const events: AgentEvent[] = [];
    await runPhases([plexStart, preflight, scan], { job, state, signal: new AbortController().signal, report: (e) => events.push(e) });
    const sections = await state.plex!.sections();
    expect(sections.map((s) => [s.title, s.type, s.agent, s.scanner])).toEqual([
      ['Films', 'movie', 'tv.plex.agents.movie', 'Plex Movie'],
      ['Series', 'show', 'tv.plex.agents.series', 'Plex TV Series'],
    ]);
    const stats = readStatsOf(paths.mainDb).library.sections;
    expect(stats.map((s) => [s.title, s.counts.movie + s.counts.episode])).toEqual([
      ['Films', 3],
      ['Series', 2],
    ]);
    // One scan per section: the one creation started.
    const scans = readFileSync(paths.log, 'utf8').match(/Scanning section \d+$/gm) ?? [];
    expect(scans).toEqual(['Scanning section 1', 'Scanning section 2']);
  });
});
