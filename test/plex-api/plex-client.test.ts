import { describe, expect, it } from 'vitest';
import { PlexClient, applyPreferences, waitForPlexReady, type ReadinessStep } from '@plexlift/shared/plex-api';
import { startPlexTvSim } from '../plex-tv-sim/plex-tv-sim.js';
import { readPreferences } from '../plex-sim/preferences-file.js';
import { startTestSim } from '../plex-sim/sim-fixture.js';

describe('waitForPlexReady', () => {
  it('waits through /identity failures and startState until /:/prefs answers', async () => {
    const { sim } = await startTestSim({ speed: 1, timings: { startUpMs: 600 }, faults: { identityFailures: 2 } });
    const steps: ReadinessStep[] = [];
    const ready = await waitForPlexReady(new PlexClient({ url: sim.url }), { timeoutMs: 10_000, intervalMs: 50, onStep: (s) => steps.push(s) });
    expect(ready).toEqual({ machineIdentifier: expect.stringMatching(/^[0-9a-f]{40}$/), version: '1.43.2.10687-563d026ea' });
    expect(steps).toEqual(['identity', 'claimed', 'started', 'preferences', 'ready']);
  });

  it('gives up with the condition it was waiting for', async () => {
    const { sim } = await startTestSim({ speed: 1, timings: { startUpMs: 60_000 } });
    await expect(waitForPlexReady(new PlexClient({ url: sim.url }), { timeoutMs: 300, intervalMs: 50 })).rejects.toMatchObject({
      code: 'PLEX_NOT_READY',
      message: expect.stringMatching(/not ready after 0 s \(waiting for started: startState is startingPlugins\)/),
    });
  });

  it('waits for the claim when one is expected, and stops at once on a refused token', async () => {
    const tv = await startPlexTvSim({ accountToken: 'owner' });
    const claim = ((await (await fetch(`${tv.url}/api/claim/token.json`, { headers: { 'X-Plex-Token': 'owner' } })).json()) as { token: string }).token;
    const { sim } = await startTestSim({ claimToken: claim, plexTvUrl: tv.url });
    const token = readPreferences(sim.paths.preferences).get('PlexOnlineToken');
    await expect(waitForPlexReady(new PlexClient({ url: sim.url, token }), { timeoutMs: 5_000, intervalMs: 20, expectClaimed: true })).resolves.toBeDefined();
    const refused = waitForPlexReady(new PlexClient({ url: sim.url, token: 'not-the-token' }), { timeoutMs: 5_000, intervalMs: 20 });
    await expect(refused).rejects.toMatchObject({ code: 'PLEX_UNAUTHORIZED' });
    await expect(refused).rejects.not.toThrow(/not-the-token/);
    await tv.close();
  });
});

describe('applyPreferences', () => {
  it('sets each preference on its own and reads it back', async () => {
    const { sim } = await startTestSim();
    await sim.ready;
    const client = new PlexClient({ url: sim.url });
    const changes = await applyPreferences(client, {
      autoEmptyTrash: false,
      ScheduledLibraryUpdatesEnabled: false,
      ButlerStartHour: 14,
      MusicAnalysisBehavior: 'never',
    });
    expect(changes).toEqual([
      { id: 'autoEmptyTrash', before: true, after: false },
      { id: 'ScheduledLibraryUpdatesEnabled', before: false, after: false },
      { id: 'ButlerStartHour', before: 2, after: 14 },
      { id: 'MusicAnalysisBehavior', before: 'scheduled', after: 'never' },
    ]);
    expect(sim.runtime.preferences.value('autoEmptyTrash')).toBe(false);
  });

  it("refuses made-up ids before writing anything (the predecessor's AutoScan)", async () => {
    const { sim } = await startTestSim();
    await sim.ready;
    await expect(
      applyPreferences(new PlexClient({ url: sim.url }), { autoEmptyTrash: false, AutoScan: false, GenerateChapterBehavior: 'never' }),
    ).rejects.toMatchObject({
      code: 'PLEX_API_ERROR',
      message: 'Plex has no preference "AutoScan", "GenerateChapterBehavior"; nothing was changed',
    });
    expect(sim.runtime.preferences.value('autoEmptyTrash')).toBe(true);
  });
});

describe('PlexClient', () => {
  it('reads sections, counts, activities and the Butler, and starts a task by a name Plex lists', async () => {
    const { sim, media, addSection } = await startTestSim();
    await addSection('Music', 'artist', media.roots.music);
    const client = new PlexClient({ url: sim.url });
    const [section] = await client.sections();
    expect(section).toMatchObject({ key: '1', type: 'artist', title: 'Music', refreshing: false, Location: [{ path: media.roots.music }] });
    expect(await client.count('1', 10)).toBe(media.tracks.length);
    expect(await client.updateQueueSize('1')).toBe(0);
    expect(await client.activities()).toEqual([]);
    await expect(client.startButlerTask('MusicAnalyse')).rejects.toThrow(/no Butler task "MusicAnalyse" \(it has: AutomaticUpdates, /);
    sim.runtime.options.speed = 1;
    expect(await client.startButlerTask('OptimizeDatabase')).toBe('started');
    expect(await client.startButlerTask('OptimizeDatabase')).toBe('already running');
    const butler = (await client.activities()).find((a) => a.type === 'butler');
    expect(butler).toMatchObject({ title: 'Butler tasks' });
  });

  it('says which status Plex answered, never the token', async () => {
    const { sim } = await startTestSim({ faults: { errorBurst: { status: 503, count: 1 } } });
    const client = new PlexClient({ url: sim.url, token: 'secret-token-value' });
    const error = await client.sections().catch((e: unknown) => e as Error);
    expect(error).toMatchObject({ code: 'PLEX_API_ERROR', message: 'Plex answered GET /library/sections with HTTP 503' });
    expect(JSON.stringify(error)).not.toContain('secret-token-value');
  });
});
