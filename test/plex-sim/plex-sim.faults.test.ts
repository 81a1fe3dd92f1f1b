import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { checkIntegrity, closeDatabase, openDatabaseReadOnly, readSonicProgress } from '@plexlift/shared/plex-db';
import { startPlexTvSim } from '../plex-tv-sim/plex-tv-sim.js';
import { readPreferences } from './preferences-file.js';
import { startTestSim } from './sim-fixture.js';

describe('plex-sim fault knobs', () => {
  it('identityFailures: /identity answers 503 that many times, then 200', async () => {
    const { api } = await startTestSim({ faults: { identityFailures: 3 } });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await api('/identity')).status);
    expect(statuses).toEqual([503, 503, 503, 200, 200]);
  });

  it('errorBurst: every endpoint answers the status for that many requests', async () => {
    const { api } = await startTestSim({ faults: { errorBurst: { status: 502, count: 2 } } });
    expect([(await api('/identity')).status, (await api('/library/sections')).status, (await api('/library/sections')).status]).toEqual([502, 502, 200]);
  });

  it('faults can be set on a running server through its control API', async () => {
    const { sim } = await startTestSim();
    await fetch(`${sim.url}/__plexsim/faults`, { method: 'PUT', body: JSON.stringify({ identityFailures: 1 }) });
    expect((await fetch(`${sim.url}/identity`)).status).toBe(503);
    expect((await fetch(`${sim.url}/identity`)).status).toBe(200);
  });

  it('stallAnalysis: Sonic keeps the CPU busy and makes no progress until lifted', async () => {
    const tv = await startPlexTvSim({ accountToken: 'account' });
    const claim = ((await (await fetch(`${tv.url}/api/claim/token.json`, { headers: { 'X-Plex-Token': 'account' } })).json()) as { token: string }).token;
    const { sim, api, media } = await startTestSim({ claimToken: claim, plexTvUrl: tv.url, faults: { stallAnalysis: true } });
    const token = readPreferences(sim.paths.preferences).get('PlexOnlineToken')!;
    await sim.ready;
    await api(`/library/sections?name=Music&type=artist&location=${encodeURIComponent(media.roots.music)}`, { method: 'POST', token });
    await sim.jobs.idle();
    await api('/butler/MusicAnalysis', { method: 'POST', token });
    await vi.waitFor(() => expect(sim.runtime.activities.list()).toContainEqual(expect.objectContaining({ type: 'media.generate.music.analysis' })), {
      timeout: 20_000,
    });
    // Half a second of the stalled analysis, for its CPU time.
    const cpu = process.cpuUsage();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const used = process.cpuUsage(cpu);
    expect((used.user + used.system) / 1000).toBeGreaterThan(100);
    const progress = () => {
      const db = openDatabaseReadOnly(sim.paths.mainDb);
      try {
        return readSonicProgress(db)[0]!.analyzed;
      } finally {
        closeDatabase(db);
      }
    };
    expect(progress()).toBe(0);
    expect(sim.runtime.activities.list().find((a) => a.type === 'media.generate.music.analysis')?.progress).toBe(0);
    sim.faults.stallAnalysis = false;
    await vi.waitFor(() => expect(progress(), 'tracks analysed once the stall is lifted').toBe(media.tracks.length), { timeout: 20_000 });
    await tv.close();
  });

  it('corruptDatabase: the DB on disk is damaged, as a failing disk leaves it', async () => {
    const { sim, media, addSection } = await startTestSim({ media: { artists: 6, albums: 4, tracks: 12 } });
    await addSection('Music', 'artist', media.roots.music);
    sim.corruptDatabase();
    await sim.stop();
    const report = await checkIntegrity(sim.paths.mainDb);
    expect(report.ok).toBe(false);
    expect(report.damaged).toContain('media_parts');
    expect(readFileSync(sim.paths.log, 'utf8')).toContain('database disk image is malformed');
  });

  it('work burns real CPU in proportion to the items, for a CPU monitor to see', async () => {
    const { media, addSection } = await startTestSim({
      media: { movies: 30 },
      speed: 10,
      cpuMsPerItem: 20,
      timings: { startUpMs: 0, scanItemMs: 0, metadataItemMs: 0 },
    });
    const cpu = process.cpuUsage();
    await addSection('Movies', 'movie', media.roots.movies);
    const used = process.cpuUsage(cpu);
    // 30 items scanned and 30 refreshed, 20 ms each: far more CPU than the bookkeeping alone.
    expect((used.user + used.system) / 1000).toBeGreaterThan(600);
  });
});

describe('plex-sim log and data dir', () => {
  it('writes the real log format and its start-up, request, activity, scan and shutdown lines', async () => {
    const { sim, media, addSection } = await startTestSim();
    await addSection('Movies', 'movie', media.roots.movies);
    await sim.stop();
    const lines = readFileSync(sim.paths.log, 'utf8').trimEnd().split('\n');
    for (const line of lines) expect(line).toMatch(/^[A-Z][a-z]{2} \d{2}, \d{4} \d{2}:\d{2}:\d{2}\.\d{3} \[\d+\] (DEBUG|INFO|WARN|ERROR) - ./);
    const log = lines.join('\n');
    for (const marker of [
      /INFO - Plex Media Server v1\.43\.2\.10687-563d026ea - Docker Docker Container x86_64/,
      /DEBUG - HttpServer: Listening on port \d+\./,
      /DEBUG - PluginRepository::setStartState: 3, complete/,
      /DEBUG - Request: \[127\.0\.0\.1:\d+ \(Loopback\)\] POST \/library\/sections/,
      /DEBUG - Activity: registered new activity [0-9a-f-]{36} - "Scanning"/,
      /DEBUG - Activity: updated activity [0-9a-f-]{36} - completed 100\.0% - Scanning/,
      /DEBUG - Activity: Ended activity [0-9a-f-]{36}\./,
      /DEBUG - Scanning section 1/,
      /DEBUG - Shutting down with signal 15 \(Terminated\)/,
      /DEBUG - Server stopped\./,
      /DEBUG - Database: Shutting down\./,
    ]) {
      expect(log).toMatch(marker);
    }
  });

  it('lays out the data dir as PMS does', async () => {
    const { sim, media, addSection } = await startTestSim();
    await addSection('Movies', 'movie', media.roots.movies);
    const real = readFileSync(new URL('../fixtures/pms-1.43.2/data-dir-tree.txt', import.meta.url), 'utf8');
    for (const entry of [
      '.LocalAdminToken',
      'Codecs/.device-id',
      'Plug-in Support/Databases/com.plexapp.plugins.library.db',
      'Preferences.xml',
      'Logs/Plex Media Server.log',
      'Setup Plex.html',
    ]) {
      expect(real).toContain(`Plex Media Server/${entry}`);
      expect(() => readFileSync(`${sim.paths.pms}/${entry}`)).not.toThrow();
    }
    expect(readFileSync(sim.paths.localAdminToken, 'utf8')).toHaveLength(42);
  });
});
