import { readFileSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it, vi } from 'vitest';
import { startTestSim } from './sim-fixture.js';

/** The real PMS 1.43.2 traffic (test/fixtures/pms-1.43.2), keyed by path. */
const CAPTURE = new Map(
  readFileSync(new URL('../fixtures/pms-1.43.2/traffic-20260603-224738.jsonl', import.meta.url), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { path: string; method: string; status: number; body?: string })
    .filter((entry) => entry.method === 'GET' && entry.status === 200 && entry.body)
    .map((entry) => [entry.path.replace('http://localhost:32400', ''), entry.body!]),
);

interface Shape {
  tag: string;
  attributes: string[];
  children: Shape[];
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', preserveOrder: true });

/** Element names and attribute names, in document order; values are instance-specific. */
function shape(xml: string): Shape[] {
  const walk = (nodes: Record<string, unknown>[]): Shape[] =>
    nodes
      .filter((node) => !('?xml' in node) && !('#text' in node))
      .map((node) => {
        const tag = Object.keys(node).find((key) => key !== ':@')!;
        return {
          tag,
          attributes: Object.keys((node[':@'] as Record<string, unknown> | undefined) ?? {})
            .map((name) => name.slice(1))
            .sort(),
          children: walk(node[tag] as Record<string, unknown>[]),
        };
      });
  return walk(parser.parse(xml) as Record<string, unknown>[]);
}

describe('plex-sim answers with the elements and attributes of the real capture', () => {
  it.each(['/identity', '/', '/library', '/library/sections', '/butler', '/accounts', '/servers'])('%s', async (path) => {
    const { sim, api } = await startTestSim();
    await sim.ready;
    expect(CAPTURE.has(path)).toBe(true);
    expect(shape((await api(path)).text)).toEqual(shape(CAPTURE.get(path)!));
  });

  it('/activities, with the Butler activity that lingers after its tasks', async () => {
    const { sim, api } = await startTestSim({ timings: { butlerTaskMs: 0 } });
    await sim.ready;
    await api('/butler/OptimizeDatabase', { method: 'POST' });
    await vi.waitFor(() => expect(sim.runtime.activities.list()).toContainEqual(expect.objectContaining({ type: 'butler', progress: 100 })), {
      timeout: 10_000,
      interval: 10,
    });
    const real = CAPTURE.get('/activities')!;
    expect(real).toContain('type="butler"');
    expect(shape((await api('/activities')).text)).toEqual(shape(real));
  });
});
