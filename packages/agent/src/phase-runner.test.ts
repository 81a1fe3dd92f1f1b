import { describe, expect, it } from 'vitest';
import { PlexliftError } from '@plexlift/shared';
import { parseJobSpec, type AgentEvent } from '@plexlift/shared/protocol';
import type { JobState } from './job-state.js';
import { runPhases } from './phase-runner.js';
import { definePhase, type AnyPhase } from './phases/phase.js';

const job = parseJobSpec({ jobId: 'job-test', mode: 'delta', plex: { version: '1.43.2.10687-563d026ea' }, media: { mountPath: '/Media', remote: 'r:' } });

/** What the job is given does not matter to the runner. */
const given = () => ({}) as JobState;

function recorder() {
  const events: AgentEvent[] = [];
  return { events, report: (event: AgentEvent) => events.push(event) };
}

describe('runPhases', () => {
  it('runs phases in order, handing what one makes to the next, with start, progress and complete events', async () => {
    const state = given();
    const phases: AnyPhase[] = [
      definePhase({
        name: 'mount',
        makes: ['mountSample'],
        run: ({ make }) => {
          make({ mountSample: ['/Media/a.mkv'] });
          return Promise.resolve({ files: 3 });
        },
      }),
      definePhase({
        name: 'scan',
        needs: ['mountSample'],
        run: ({ state: s, progress }) => {
          expect(s.mountSample).toEqual(['/Media/a.mkv']);
          progress({ percent: 50, message: 'Movies' });
          return Promise.resolve({ sections: 2 });
        },
      }),
      { name: 'refresh', applies: (j) => j.forceRefresh, run: () => Promise.reject(new Error('must not run')) },
    ];
    const { events, report } = recorder();
    const run = await runPhases(phases, { job, state, signal: new AbortController().signal, report });
    expect(run.completed).toEqual(['mount', 'scan']);
    expect(run.skipped).toEqual(['refresh']);
    expect(events.map((e) => `${e.type}${'phase' in e ? ` ${e.phase}` : ''}`)).toEqual([
      'phase:start mount',
      'phase:complete mount',
      'phase:start scan',
      'phase:progress scan',
      'phase:complete scan',
      'phase:complete refresh',
    ]);
    expect(events[1]).toMatchObject({ summary: { files: 3, durationMs: expect.any(Number) } });
    expect(events[5]).toMatchObject({ summary: { skipped: true } });
  });

  it('fails a phase whose needs no earlier phase made, and one that ends without making what it lists', async () => {
    const needy: AnyPhase[] = [definePhase({ name: 'scan', needs: ['plex'], run: () => Promise.reject(new Error('must not run')) })];
    const { events, report } = recorder();
    await expect(runPhases(needy, { job, state: given(), signal: new AbortController().signal, report })).rejects.toMatchObject({
      message: 'scan needs plex, which no phase before it made',
    });
    expect(events.at(-1)).toMatchObject({ type: 'phase:fail', phase: 'scan', code: 'UNEXPECTED' });

    const idle: AnyPhase[] = [definePhase({ name: 'plex-start', makes: ['plex'], run: () => Promise.resolve({}) })];
    await expect(runPhases(idle, { job, state: given(), signal: new AbortController().signal, report })).rejects.toMatchObject({
      message: 'plex-start ended without making plex',
    });
  });

  it('stops at the first failure and reports its code', async () => {
    const phases: AnyPhase[] = [
      { name: 'preflight', run: () => Promise.reject(new PlexliftError('SAFETY_STOP', 'section "Movies": 12 of 12 files missing')) },
      { name: 'scan', run: () => Promise.reject(new Error('must not run')) },
    ];
    const { events, report } = recorder();
    await expect(runPhases(phases, { job, state: given(), signal: new AbortController().signal, report })).rejects.toMatchObject({ code: 'SAFETY_STOP' });
    expect(events.at(-1)).toEqual({ type: 'phase:fail', phase: 'preflight', code: 'SAFETY_STOP', message: 'section "Movies": 12 of 12 files missing' });
  });

  it('refuses phases out of contract order', async () => {
    const phases: AnyPhase[] = [
      { name: 'scan', run: () => Promise.resolve({}) },
      { name: 'preflight', run: () => Promise.resolve({}) },
    ];
    await expect(runPhases(phases, { job, state: given(), signal: new AbortController().signal, report: () => undefined })).rejects.toThrow(/contract order/);
  });

  it('an abort fails the phase in flight', async () => {
    const controller = new AbortController();
    const phases: AnyPhase[] = [
      {
        name: 'sonic',
        run: ({ signal }) =>
          new Promise((_, reject) => {
            signal.addEventListener('abort', () => reject(signal.reason as Error));
            controller.abort(new Error('user abort'));
          }),
      },
    ];
    const { events, report } = recorder();
    await expect(runPhases(phases, { job, state: given(), signal: controller.signal, report })).rejects.toThrow('sonic was aborted');
    expect(events.at(-1)).toMatchObject({ type: 'phase:fail', phase: 'sonic' });
  });
});
