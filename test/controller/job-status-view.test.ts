import { describe, expect, it } from 'vitest';
import { JOB_STATES, type JobState } from '@plexlift/shared';
import { parseJobSpec } from '@plexlift/shared/protocol';
import { diffLibraryStats } from '@plexlift/shared/plex-db';
import { formatReport } from '../../packages/controller/src/cli/commands/job-report-view.js';
import { formatJobStatus, type JobStatus } from '../../packages/controller/src/cli/commands/job-status-view.js';

const NOW = Date.parse('2026-12-03T12:00:00Z');
const spec = parseJobSpec({ jobId: 'job-7', mode: 'delta', plex: { version: '1.43.2.10687-563d026ea' }, media: { mountPath: '/Media', remote: 's3:media' } });
const before = {
  sections: [
    {
      id: 1,
      title: 'Movies',
      type: 'movie' as const,
      counts: { movie: 4, show: 0, season: 0, episode: 0, artist: 0, album: 0, track: 0, photo: 0 },
      deleted: 0,
      parts: 4,
    },
  ],
};

/** A job as the admin API sends it in each state: what a job in that state really carries. */
function statusIn(state: JobState): JobStatus {
  const started = NOW - 45 * 60_000;
  const under = ['provisioning', 'running', 'verified', 'installing', 'tearing-down', 'done', 'failed', 'aborted'].includes(state);
  const ended = state === 'done' || state === 'failed' || state === 'aborted';
  return {
    job: {
      id: 'job-7',
      state,
      provider: 'scaleway',
      spec,
      options: { keep: false, noInstall: state === 'verified' },
      createdAt: started,
      ...(state === 'running' ? { phase: 'sonic' as const } : {}),
      ...(under ? { resource: { serverId: 's-1', hourlyPrice: 0.2128 } } : {}),
      ...(state === 'failed' || state === 'aborted' || state === 'tearing-down'
        ? { error: { code: state === 'aborted' ? 'JOB_ABORTED' : 'SAFETY_STOP', message: 'the job reached its lifetime cap of 1.5 h' } }
        : {}),
      // Every job keeps the library as it found it from its start: a report without time or cost until it ends.
      report: ended ? { before, hours: 1.5, cost: 0.32, sonic: { analyzed: 10, total: 20, percent: 50 } } : { before },
    },
    phases: [
      { phase: 'provision', state: 'done' },
      ...(state === 'tearing-down'
        ? [
            { phase: 'sonic', state: 'failed' },
            { phase: 'teardown', state: 'running' },
          ]
        : []),
      ...(state === 'verified' ? [{ phase: 'install', state: 'skipped' }] : []),
    ],
    ...(state === 'tearing-down' ? { waitingFor: 'the server is starting; Scaleway deletes it once it can' } : {}),
  };
}

describe('plexlift status of a job, in each state', () => {
  it.each(JOB_STATES.map((state) => [state]))('%s: no undefined, no NaN, the state and what it means', (state) => {
    const text = formatJobStatus(statusIn(state), NOW);
    expect(text).not.toMatch(/undefined|NaN|null|\[object/);
    expect(text.split('\n')[0]).toBe(`job job-7: ${state}${state === 'running' ? ' (sonic)' : ''}, delta on scaleway, started 45 min ago`);
    const billed = ['provisioning', 'running', 'tearing-down'].includes(state);
    expect(text.includes('cost so far: ≈ 0.16 € (0.75 h at 0.2128 €/h)')).toBe(billed);
    expect(text.includes('time: 1.5 h, cost: 0.32 €')).toBe(['done', 'failed', 'aborted'].includes(state));
  });

  it('a running job shows its phase under way with the percent, rate and ETA of its last progress', () => {
    const running = statusIn('running');
    const text = formatJobStatus(
      {
        ...running,
        phases: [...running.phases, { phase: 'sonic', state: 'running' }],
        progress: {
          type: 'phase:progress',
          phase: 'sonic',
          percent: 42,
          rate: { value: 1234, unit: 'tracks/h' },
          etaMs: 150_000,
          message: 'Music: 420 of 1,000',
        },
      },
      NOW,
    );
    expect(text.split('\n').at(-1)).toBe('  › sonic running: 42% | 1,234 tracks/h | ETA 2m30s | Music: 420 of 1,000');
  });

  it('a job tearing down says its machine is being deleted, what the teardown waits for, and why the job stopped', () => {
    expect(formatJobStatus(statusIn('tearing-down'), NOW).split('\n').slice(1)).toEqual([
      '  cost so far: ≈ 0.16 € (0.75 h at 0.2128 €/h)',
      '  its machine is being deleted: the server is starting; Scaleway deletes it once it can; the job ends once nothing is left',
      '  ✓ provision done',
      '  ✗ sonic failed',
      '  › teardown running',
      '  stopped by SAFETY_STOP: the job reached its lifetime cap of 1.5 h',
    ]);
  });

  it('a --no-install job waiting at its verified archive says how to install it', () => {
    expect(formatJobStatus(statusIn('verified'), NOW)).toContain('the archive is verified at home and waits: plexlift install job-7');
  });
});

describe('the report of a --no-install job: the library as the VM shipped it', () => {
  it("shows before → after per section, says it is not installed yet, and prints a VM's section title without its escape sequences", () => {
    const counts = (movie: number) => ({ movie, show: 0, season: 0, episode: 0, artist: 0, album: 0, track: 0, photo: 0 });
    const section = (title: string, movies: number) => ({ id: 1, title, type: 'movie' as const, counts: counts(movies), deleted: 0, parts: movies });
    const before = { sections: [section('Movies', 40)] };
    // A hostile VM's title: set the window's title, move the cursor, reverse what follows.
    const after = { sections: [section('\u001b]0;pwned\u0007Mov\u001b[2Aies\u202e', 42)] };
    const text = formatReport('job-shipped', { libraries: diffLibraryStats(before, after), librariesAsShipped: true });
    expect(text).toMatch(/^Movies\ufffd +40 → 42 \(\+2\)/m);
    for (const control of ['\u001b', '\u0007', '\u202e']) expect(text).not.toContain(control);
    expect(text).toContain('(the new library as the VM shipped it, not installed yet: plexlift install counts it again at home first)');
    expect(formatReport('job-installed', { libraries: diffLibraryStats(before, { sections: [section('Movies', 42)] }) })).not.toContain('as the VM shipped it');
  });
});
