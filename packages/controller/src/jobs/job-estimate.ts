import { existsSync, statSync } from 'node:fs';
import type { JobEstimate } from '@plexlift/shared';
import { mainDatabasePath } from '@plexlift/shared/plex-db';
import type { JobSpec, PhaseName } from '@plexlift/shared/protocol';
import type { JobRecord, JobStore } from '../store/job-store.js';
import { readHomeStats, sonicSectionsOf } from './home-library.js';
import { median } from './medians.js';

/**
 * The first estimate's rates, before any run of the library was measured (README, "Estimates").
 * Deliberately plain: a home upload of 1 MB/s, Plex scanning 30,000 known files an hour (5,000
 * new ones), reading file heads at 20 files/s, analysing 2,000 files and 1,000 Sonic tracks an hour.
 */
export const ESTIMATE_DEFAULTS = {
  provisionSeconds: { cloud: 120, local: 5 },
  connectSeconds: { cloud: 20, local: 3 },
  teardownSeconds: { cloud: 90, local: 5 },
  fixedSeconds: { mount: 5, remap: 2, 'plex-start': 30, preflight: 10, stabilize: 60, 'plex-stop': 30, install: 60 } as Partial<Record<PhaseName, number>>,
  homeLinkBytesPerSecond: 1_000_000,
  exportBytesPerSecond: 20_000_000,
  itemsPerHour: { rescan: 30_000, scan: 5_000, warm: 72_000, analyze: 2_000, refresh: 3_000 },
  sonicTracksPerHour: 1_000,
};

/** Past runs looked at: the newest finished runs of the library in the same mode. */
const HISTORY = 5;

/**
 * How long a job will take and what it will cost, phase by phase, before anything is rented. A
 * library's past runs in the same mode are the measure (the median of each phase, the ones that
 * grow with the library scaled to its files now); without one, the
 * documented defaults above, and the estimate says so.
 */
export function estimateJob(input: { spec: JobSpec; noInstall: boolean; library: string; jobs: JobStore; hourlyPrice: number; isCloud: boolean }): JobEstimate {
  const { spec, jobs } = input;
  const chosen = chosenBy(spec);
  const stats = readHomeStats(input.library);
  const partsNow = stats?.sections.filter(chosen).reduce((n, s) => n + s.parts, 0) ?? 0;
  const sonicLeft = sonicSectionsOf(input.library)
    .filter(chosen)
    .reduce((n, s) => n + Math.max(0, s.total - s.analyzed), 0);
  const db = mainDatabasePath(input.library);
  const dbBytes = existsSync(db) ? statSync(db).size : 0;
  const wanted = phasesOf(spec, input.noInstall);

  const past = jobs
    .list({ limit: 50 })
    .filter((j) => j.library === input.library && j.state === 'done' && !j.report?.landed && j.finishedAt !== undefined && sameWork(j.spec, spec))
    .slice(0, HISTORY);
  let phases: Partial<Record<PhaseName, number>>;
  let basis: string;
  if (past.length > 0) {
    phases = learned(past, jobs, wanted, { partsNow, sonicLeft, chosen });
    // A run that had no Sonic left to do says nothing of its pace: the documented rate does.
    if (wanted.includes('sonic') && phases.sonic === undefined) phases.sonic = (sonicLeft / ESTIMATE_DEFAULTS.sonicTracksPerHour) * 3600;
    basis = `${past.length} past ${spec.mode} run${past.length === 1 ? '' : 's'} of this library doing the same work`;
  } else {
    phases = fromDefaults(spec, wanted, { partsNow, dbBytes, isCloud: input.isCloud, sonicLeft });
    basis = 'documented defaults: no run of this library measured yet';
  }
  const seconds = Math.round(Object.values(phases).reduce((n, s) => n + s, 0));
  return {
    seconds,
    ...(input.hourlyPrice > 0 ? { cost: Math.round((seconds / 3600) * input.hourlyPrice * 100) / 100 } : {}),
    phases: Object.fromEntries(Object.entries(phases).map(([phase, s]) => [phase, Math.round(s)])),
    basis,
  };
}

/** Whether a section is one the job works on (`--section` by name or id; none given: all). */
function chosenBy(spec: JobSpec): (section: { id: number; title: string }) => boolean {
  return (section) => spec.sections.length === 0 || spec.sections.includes(section.title) || spec.sections.includes(String(section.id));
}

/** A past run did the same work: the same mode, sections and analysis switches. */
function sameWork(past: JobSpec, now: JobSpec): boolean {
  return (
    past.mode === now.mode &&
    past.skipAnalysis === now.skipAnalysis &&
    past.skipSonic === now.skipSonic &&
    past.forceRefresh === now.forceRefresh &&
    [...past.sections].sort().join('\n') === [...now.sections].sort().join('\n')
  );
}

/** The phases a job of this spec runs (repair only when the DB needs it: not estimated). */
function phasesOf(spec: JobSpec, noInstall: boolean): PhaseName[] {
  const analysis = !spec.skipAnalysis;
  const all: [PhaseName, boolean][] = [
    ['provision', true],
    ['connect', true],
    ['mount', true],
    ['restore', spec.mode === 'delta'],
    ['remap', spec.mappings.length > 0],
    ['plex-start', true],
    ['preflight', true],
    ['scan', true],
    ['warm', analysis],
    ['analyze', analysis],
    ['refresh', spec.forceRefresh],
    ['stabilize', true],
    ['sonic', analysis && !spec.skipSonic],
    ['plex-stop', true],
    ['export', true],
    ['upload', true],
    ['teardown', true],
    ['install', !noInstall],
  ];
  return all.filter(([, on]) => on).map(([phase]) => phase);
}

/** The phases whose time grows with the library: Plex's work and the DB's transfers (a DB grows with its files). */
const BY_SIZE = new Set<PhaseName>(['scan', 'warm', 'analyze', 'refresh', 'restore', 'export', 'upload']);

/**
 * Each phase's median over the past runs (milliseconds as recorded), scaled to the library now:
 * Plex's work and the transfers by the sections' files, Sonic by the tracks it had left; the
 * time between phases too.
 */
function learned(
  past: JobRecord[],
  jobs: JobStore,
  wanted: PhaseName[],
  now: { partsNow: number; sonicLeft: number; chosen: ReturnType<typeof chosenBy> },
): Partial<Record<PhaseName, number>> {
  const runs = past.map((job) => {
    const rows = jobs.phases(job.id);
    const seconds = new Map(
      rows.filter((r) => r.startedAt !== undefined && r.finishedAt !== undefined).map((r) => [r.phase, (r.finishedAt! - r.startedAt!) / 1000] as const),
    );
    // Up to the last phase before the install: a --no-install run waited for a person before it.
    const lastBeforeInstall = Math.max(...rows.filter((r) => r.phase !== 'install' && r.finishedAt !== undefined).map((r) => r.finishedAt!), job.createdAt);
    const total = (lastBeforeInstall - job.createdAt) / 1000;
    const inPhases = [...seconds].filter(([phase]) => phase !== 'install').reduce((n, [, s]) => n + s, 0);
    const sections = (job.report?.libraries?.sections ?? []).filter((s) => now.chosen({ id: s.id, title: s.title }));
    const parts =
      sections.length > 0
        ? sections.reduce((n, s) => n + (s.after?.parts ?? s.before?.parts ?? 0), 0)
        : (job.report?.before?.sections.filter(now.chosen).reduce((n, s) => n + s.parts, 0) ?? 0);
    const sonicLeft = job.report?.sonicSections?.filter(now.chosen).reduce((n, s) => n + Math.max(0, s.before.total - s.before.analyzed), 0);
    return { seconds, between: Math.max(0, total - inPhases), parts, sonicLeft };
  });
  const estimate: Partial<Record<PhaseName, number>> = {};
  for (const phase of wanted) {
    const scaled = runs.map((run) => {
      const seconds = run.seconds.get(phase);
      if (seconds === undefined) return undefined;
      if (phase === 'sonic') {
        // Sonic's time is the tracks left to analyse; a run with none left only says what nothing costs.
        if (run.sonicLeft === undefined) return undefined;
        if (run.sonicLeft > 0) return seconds * (now.sonicLeft / run.sonicLeft);
        return now.sonicLeft === 0 ? seconds : undefined;
      }
      return BY_SIZE.has(phase) && run.parts > 0 && now.partsNow > 0 ? seconds * (now.partsNow / run.parts) : seconds;
    });
    const value = median(scaled);
    if (value !== undefined) estimate[phase] = value;
  }
  // What the phases leave out (the controller's own steps between them) is part of the wait too.
  const between = median(runs.map((r) => r.between));
  if (between !== undefined && between > 0) estimate.provision = (estimate.provision ?? 0) + between;
  return estimate;
}

function fromDefaults(
  spec: JobSpec,
  wanted: PhaseName[],
  now: { partsNow: number; dbBytes: number; isCloud: boolean; sonicLeft: number },
): Partial<Record<PhaseName, number>> {
  const d = ESTIMATE_DEFAULTS;
  const where = now.isCloud ? 'cloud' : 'local';
  const perHour = (items: number, rate: number) => (items / rate) * 3600;
  // A --bwlimit below the assumed link is what the transfers get.
  const link = Math.min(d.homeLinkBytesPerSecond, spec.bwlimitBytesPerSecond ?? Number.POSITIVE_INFINITY);
  const seconds: Record<PhaseName, number> = {
    provision: d.provisionSeconds[where],
    connect: d.connectSeconds[where],
    mount: d.fixedSeconds.mount!,
    restore: now.dbBytes / link,
    repair: 0,
    remap: d.fixedSeconds.remap!,
    'plex-start': d.fixedSeconds['plex-start']!,
    preflight: d.fixedSeconds.preflight!,
    scan: perHour(now.partsNow, spec.mode === 'scan' ? d.itemsPerHour.scan : d.itemsPerHour.rescan),
    warm: perHour(now.partsNow, d.itemsPerHour.warm),
    analyze: perHour(now.partsNow, d.itemsPerHour.analyze),
    refresh: perHour(now.partsNow, d.itemsPerHour.refresh),
    stabilize: d.fixedSeconds.stabilize!,
    sonic: perHour(now.sonicLeft, d.sonicTracksPerHour),
    'plex-stop': d.fixedSeconds['plex-stop']!,
    export: now.dbBytes / d.exportBytesPerSecond,
    upload: now.dbBytes / link,
    teardown: d.teardownSeconds[where],
    install: d.fixedSeconds.install!,
  };
  return Object.fromEntries(wanted.map((phase) => [phase, seconds[phase]]));
}
