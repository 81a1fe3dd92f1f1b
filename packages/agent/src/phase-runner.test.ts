import { describe, expect, it } from 'vitest';
import { PlexliftError } from '@plexlift/shared';
import { parseJobSpec, type AgentEvent } from '@plexlift/shared/protocol';
import { runPhases } from './phase-runner.js';
import type { Phase } from './phases/phase.js';

const job = parseJobSpec({ jobId: 'job-test', mode: 'delta', plex: { version: '1.43.2.10687-563d026ea' }, media: { mountPath: '/Media', remote: 'r:' } });

function recorder() {
  const events: AgentEvent[] = [];
  return { events, report: (event: AgentEvent) => events.push(event) };
}

describe('runPhases', () => {
  it('runs phases in order, passing state along, with start, progress and complete events', async () => {
    const state = { mounted: false, scanned: 0 };
    const phases: Phase<typeof state>[] = [
      {
        name: 'mount',
        run: ({ state: s }) => {
          s.mounted = true;
          return Promise.resolve({ files: 3 });
        },
      },
      {
        name: 'scan',
        run: ({ state: s, progress }) => {
          expect(s.mounted).toBe(true);
          progress({ percent: 50, message: 'Movies' });
          s.scanned = 2;
          return Promise.resolve({ sections: 2 });
        },
      },
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

  it('stops at the first failure and reports its code', async () => {
    const phases: Phase<object>[] = [
      { name: 'preflight', run: () => Promise.reject(new PlexliftError('SAFETY_STOP', 'section "Movies": 12 of 12 files missing')) },
      { name: 'scan', run: () => Promise.reject(new Error('must not run')) },
    ];
    const { events, report } = recorder();
    await expect(runPhases(phases, { job, state: {}, signal: new AbortController().signal, report })).rejects.toMatchObject({ code: 'SAFETY_STOP' });
    expect(events.at(-1)).toEqual({ type: 'phase:fail', phase: 'preflight', code: 'SAFETY_STOP', message: 'section "Movies": 12 of 12 files missing' });
  });

  it('refuses phases out of contract order', async () => {
    const phases: Phase<object>[] = [
      { name: 'scan', run: () => Promise.resolve({}) },
      { name: 'preflight', run: () => Promise.resolve({}) },
    ];
    await expect(runPhases(phases, { job, state: {}, signal: new AbortController().signal, report: () => undefined })).rejects.toThrow(/contract order/);
  });

  it('an abort fails the phase in flight', async () => {
    const controller = new AbortController();
    const phases: Phase<object>[] = [
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
    await expect(runPhases(phases, { job, state: {}, signal: controller.signal, report })).rejects.toThrow('sonic was aborted');
    expect(events.at(-1)).toMatchObject({ type: 'phase:fail', phase: 'sonic' });
  });
});
