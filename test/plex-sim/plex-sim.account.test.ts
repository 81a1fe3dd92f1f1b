import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { closeDatabase, openDatabaseReadOnly, readSonicProgress } from '@plexlift/shared/plex-db';
import { startPlexTvSim } from '../plex-tv-sim/plex-tv-sim.js';
import { createTempDir } from '../utils/temp-dir.js';
import { dataDirPaths } from './data-dir.js';
import { readPreferences } from './preferences-file.js';
import { startTestSim } from './sim-fixture.js';

/** How long the Butler and the analysis get to do what a test waits for. */
const PATIENCE = { timeout: 20_000 };

async function plexTv(subscriptionActive = true) {
  const tv = await startPlexTvSim({ accountToken: 'owner-account-token', subscriptionActive });
  onTestFinished(() => tv.close());
  const claim = (await (await fetch(`${tv.url}/api/claim/token.json`, { headers: { 'X-Plex-Token': 'owner-account-token' } })).json()) as { token: string };
  return { tv, claim: claim.token };
}

function sonic(path: string) {
  const db = openDatabaseReadOnly(path);
  try {
    return readSonicProgress(db);
  } finally {
    closeDatabase(db);
  }
}

describe('plex-sim claim and auth', () => {
  it('exchanges PLEX_CLAIM for PlexOnlineToken before start-up; then every endpoint but /identity needs the token', async () => {
    const { tv, claim } = await plexTv();
    const { sim, api } = await startTestSim({ claimToken: claim, plexTvUrl: tv.url });
    const token = readPreferences(sim.paths.preferences).get('PlexOnlineToken');
    expect(token).toBe(tv.serverTokens[0]);
    expect((await api('/identity')).xml).toMatchObject({ MediaContainer: { claimed: '1' } });
    expect((await api('/')).status).toBe(401);
    expect((await api('/library/sections')).status).toBe(401);
    expect((await api('/library/sections', { token: 'wrong' })).status).toBe(401);
    expect((await api('/library/sections', { token: token! })).status).toBe(200);
    expect((await api(`/library/sections?X-Plex-Token=${token!}`)).status).toBe(200);
  });

  it('a claim token works once: a second server cannot use it', async () => {
    const { tv, claim } = await plexTv();
    await startTestSim({ claimToken: claim, plexTvUrl: tv.url });
    const { sim, api } = await startTestSim({ claimToken: claim, plexTvUrl: tv.url });
    expect(readPreferences(sim.paths.preferences).has('PlexOnlineToken')).toBe(false);
    expect((await api('/identity')).xml).toMatchObject({ MediaContainer: { claimed: '0' } });
  });

  it('skips the claim when Preferences.xml already holds a token (trap 12: never seed the home identity)', async () => {
    const { tv, claim } = await plexTv();
    const dir = createTempDir();
    const paths = dataDirPaths(join(dir, 'config'));
    mkdirSync(dirname(paths.preferences), { recursive: true });
    writeFileSync(
      paths.preferences,
      '<?xml version="1.0" encoding="utf-8"?>\n<Preferences MachineIdentifier="home-machine" ProcessedMachineIdentifier="0123456789abcdef0123456789abcdef01234567" PlexOnlineToken="home-token"/>\n',
    );
    const { api } = await startTestSim({ dataDir: paths.config, claimToken: claim, plexTvUrl: tv.url });
    expect(tv.serverTokens).toEqual([]);
    expect((await api('/identity')).xml).toMatchObject({ MediaContainer: { machineIdentifier: '0123456789abcdef0123456789abcdef01234567', claimed: '1' } });
    expect((await api('/', { token: 'home-token' })).status).toBe(200);
  });

  it('/myplex/account reports the Plex Pass subscription', async () => {
    for (const active of [true, false]) {
      const { tv, claim } = await plexTv(active);
      const { sim, api } = await startTestSim({ claimToken: claim, plexTvUrl: tv.url });
      const token = readPreferences(sim.paths.preferences).get('PlexOnlineToken')!;
      expect((await api('/myplex/account', { token })).xml).toMatchObject({ MyPlex: { subscriptionActive: active ? '1' : '0', signInState: 'ok' } });
    }
  });
});

describe('plex-sim Sonic analysis', () => {
  it('POST /butler/MusicAnalysis analyses every track when subscribed and MusicAnalysisBehavior is not never', async () => {
    const { tv, claim } = await plexTv(true);
    const { sim, api, media } = await startTestSim({ claimToken: claim, plexTvUrl: tv.url });
    const token = readPreferences(sim.paths.preferences).get('PlexOnlineToken')!;
    await sim.ready;
    const reply = await api(`/library/sections?name=Music&type=artist&location=${encodeURIComponent(media.roots.music)}&X-Plex-Token=${token}`, {
      method: 'POST',
    });
    expect(reply.status).toBe(200);
    await sim.jobs.idle();
    expect(sonic(sim.paths.mainDb)).toEqual([{ sectionId: 1, analyzed: 0, total: media.tracks.length }]);
    expect((await api('/butler/MusicAnalysis', { method: 'POST', token })).status).toBe(200);
    await vi.waitFor(() => expect(sonic(sim.paths.mainDb)[0]!.analyzed, 'tracks analysed').toBe(media.tracks.length), PATIENCE);
  });

  it('does nothing without Plex Pass, or with MusicAnalysisBehavior=never', async () => {
    const cases = [
      { subscribed: false, behavior: 'scheduled' },
      { subscribed: true, behavior: 'never' },
    ];
    for (const { subscribed, behavior } of cases) {
      const { tv, claim } = await plexTv(subscribed);
      const { sim, api, media } = await startTestSim({ claimToken: claim, plexTvUrl: tv.url });
      const token = readPreferences(sim.paths.preferences).get('PlexOnlineToken')!;
      await sim.ready;
      await api(`/:/prefs?MusicAnalysisBehavior=${behavior}`, { method: 'PUT', token });
      await api(`/library/sections?name=Music&type=artist&location=${encodeURIComponent(media.roots.music)}`, { method: 'POST', token });
      await sim.jobs.idle();
      expect((await api('/butler/MusicAnalysis', { method: 'POST', token })).status).toBe(200);
      await vi.waitFor(() => {
        expect(logHas(sim.paths.log, 'sonic analysis on 0 batches'), 'the analysis ran on nothing').toBe(true);
        expect(sim.runtime.activities.list().map((a) => a.type)).not.toContain('media.generate.music.analysis');
      }, PATIENCE);
      expect(sonic(sim.paths.mainDb)[0]!.analyzed).toBe(0);
    }
  });
});

describe('plex-sim Butler window', () => {
  it('wakes up by itself inside its window and leaves its activity listed at 100 % (traps 3 and 4)', async () => {
    const now = new Date();
    const hour = now.getUTCHours();
    const { sim, api } = await startTestSim({ timeZone: 'UTC', clockOffsetMs: ((3 - hour + 24) % 24) * 3_600_000 });
    await sim.ready;
    expect(sim.butler.isInWindow()).toBe(true);
    await vi.waitFor(() => expect(logHas(sim.paths.log, "Butler: we're in the window, starting."), 'the Butler starts').toBe(true), PATIENCE);
    await vi.waitFor(() => expect(sim.runtime.activities.list()).toContainEqual(expect.objectContaining({ type: 'butler', progress: 100 })), PATIENCE);
    const activities = (await api('/activities')).xml?.MediaContainer as { Activity: Record<string, string>[] };
    expect(activities.Activity).toContainEqual(expect.objectContaining({ type: 'butler', title: 'Butler tasks', progress: '100' }));
  });

  it('stays asleep outside its window', async () => {
    const hour = new Date().getUTCHours();
    const { sim } = await startTestSim({ timeZone: 'UTC', clockOffsetMs: ((14 - hour + 24) % 24) * 3_600_000 });
    await sim.ready;
    await vi.waitFor(() => expect(logHas(sim.paths.log, 'Butler: not in the window'), 'the Butler goes back to sleep').toBe(true), PATIENCE);
    expect(sim.runtime.activities.list()).toEqual([]);
  });
});

function logHas(path: string, text: string): boolean {
  return readFileSync(path, 'utf8').includes(text);
}
