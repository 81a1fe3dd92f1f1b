import { statSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { startTestSim } from './sim-fixture.js';

describe('plex-sim HTTP API', () => {
  it('/identity answers XML by default and JSON on request, without a token', async () => {
    const { api } = await startTestSim();
    const xml = await api('/identity');
    expect(xml.status).toBe(200);
    expect(xml.headers.get('content-type')).toBe('text/xml;charset=utf-8');
    expect(xml.xml).toMatchObject({ MediaContainer: { size: '0', apiVersion: '1.2.2', claimed: '0', version: '1.43.2.10687-563d026ea' } });
    const json = await api('/identity', { json: true });
    expect(JSON.parse(json.text)).toMatchObject({ MediaContainer: { size: 0, claimed: false, machineIdentifier: expect.stringMatching(/^[0-9a-f]{40}$/) } });
  });

  it('/ says startingPlugins until start-up completes', async () => {
    const { sim, api } = await startTestSim({ speed: 1, timings: { startUpMs: 400 } });
    expect(((await api('/')).xml?.MediaContainer as Record<string, string>).startState).toBe('startingPlugins');
    expect((await api('/:/prefs')).status).toBe(503);
    const early = await api('/library/sections?name=M&type=movie&location=/tmp', { method: 'POST' });
    expect(early).toMatchObject({ status: 400, text: 'server is still starting up. Please retry later' });
    await sim.ready;
    expect(((await api('/')).xml?.MediaContainer as Record<string, string>).startState).toBeUndefined();
  });

  it('/:/prefs lists the real ids with typed values; autoEmptyTrash is on by default', async () => {
    const { sim, api } = await startTestSim();
    await sim.ready;
    const json = JSON.parse((await api('/:/prefs', { json: true })).text) as {
      MediaContainer: { Setting: { id: string; value: unknown; default: unknown; type: string }[] };
    };
    const setting = (id: string) => json.MediaContainer.Setting.find((s) => s.id === id);
    expect(setting('autoEmptyTrash')).toMatchObject({ type: 'bool', value: true, default: true });
    expect(setting('ButlerStartHour')).toMatchObject({ type: 'int', value: 2 });
    expect(setting('MusicAnalysisBehavior')).toMatchObject({ type: 'text', value: 'scheduled' });
    const xml = await api('/:/prefs');
    const auto = (xml.xml?.MediaContainer as { Setting: Record<string, string>[] }).Setting.find((s) => s.id === 'autoEmptyTrash');
    expect(auto).toMatchObject({ value: '1', default: '1' });
  });

  it('PUT /:/prefs applies known ids and refuses a request with an unknown id as a whole (trap 9)', async () => {
    const { sim, api } = await startTestSim();
    await sim.ready;
    expect((await api('/:/prefs?autoEmptyTrash=0&ButlerStartHour=14', { method: 'PUT' })).status).toBe(200);
    // The predecessor's made-up ids: 400, and the valid id in the same request is not applied.
    const refused = await api('/:/prefs?ScheduledLibraryUpdatesEnabled=1&AutoScan=0&ButlerTaskDeepAnalysis=0', { method: 'PUT' });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain("Attempt to set a preferences that doesn't exist: AutoScan");
    expect((await api('/:/prefs?ButlerStartHour=noon', { method: 'PUT' })).status).toBe(400);
    expect(sim.runtime.preferences.value('autoEmptyTrash')).toBe(false);
    expect(sim.runtime.preferences.value('ButlerStartHour')).toBe(14);
    expect(sim.runtime.preferences.value('ScheduledLibraryUpdatesEnabled')).toBe(false);
    // Ids are case-sensitive.
    expect((await api('/:/prefs?AutoEmptyTrash=0', { method: 'PUT' })).status).toBe(400);
    expect((await api('/:/prefs/get?id=autoEmptyTrash', { json: true })).text).toContain('"value":false');
  });

  it('/library/sections lists sections with Locations; JSON keys are strings; POST takes the query string', async () => {
    const { api, media, addSection } = await startTestSim();
    const id = await addSection('Movies', 'movie', media.roots.movies);
    const xml = await api('/library/sections');
    const directory = (xml.xml?.MediaContainer as { Directory: Record<string, unknown>[] }).Directory[0]!;
    expect(directory).toMatchObject({ key: String(id), type: 'movie', title: 'Movies', agent: 'tv.plex.agents.movie', scanner: 'Plex Movie', refreshing: '0' });
    expect(directory.Location).toEqual([{ id: '1', path: media.roots.movies }]);
    const json = JSON.parse((await api('/library/sections', { json: true })).text) as {
      MediaContainer: { Directory: { key: unknown; refreshing: unknown; Location: { path: string }[] }[] };
    };
    expect(json.MediaContainer.Directory[0]).toMatchObject({ key: '1', refreshing: false, Location: [{ path: media.roots.movies }] });
    expect((await api('/library/sections?name=X&type=movie', { method: 'POST' })).status).toBe(400);
    expect((await api('/library/sections?name=X&type=8&location=' + encodeURIComponent(media.roots.music), { method: 'POST' })).status).toBe(200);
  });

  it('a new section scans itself; /all with X-Plex-Container-Size=0 gives totalSize', async () => {
    const { api, media, addSection } = await startTestSim({ media: { shows: 2, seasons: 2, episodes: 3 } });
    const id = await addSection('TV', 'show', media.roots.tv);
    const all = await api(`/library/sections/${id}/all?type=4`, { headers: { 'X-Plex-Container-Start': '0', 'X-Plex-Container-Size': '0' } });
    expect(all.xml?.MediaContainer).toMatchObject({ size: '0', totalSize: '12' });
    expect((await api(`/library/sections/${id}/all`, { json: true })).text).toContain('"totalSize":2');
    expect((await api('/library/sections/99/all')).status).toBe(404);
  });

  it('/library/sections/{id}/timeline reports updateQueueSize while metadata is processed', async () => {
    const { sim, api, media, addSection } = await startTestSim({ speed: 1000, timings: { metadataItemMs: 5_000 } });
    const id = await addSection('Music', 'artist', media.roots.music);
    await sim.jobs.scan(id, { force: true });
    const timeline = (await api(`/library/sections/${id}/timeline`)).xml!.LibraryTimeline as Record<string, string>;
    expect(Number(timeline.updateQueueSize)).toBeGreaterThan(0);
    await sim.jobs.idle();
    expect(((await api(`/library/sections/${id}/timeline`)).xml!.LibraryTimeline as Record<string, string>).updateQueueSize).toBe('0');
  });

  it('/activities shows a scan with its Context child; notifications carry started/updated/ended', async () => {
    const { sim, api, media } = await startTestSim({ speed: 200 });
    await sim.ready;
    const ws = new WebSocket(sim.url.replace('http', 'ws') + '/:/websockets/notifications?filters=activity');
    await new Promise((resolve) => ws.once('open', resolve));
    const events: { event: string; Activity: { type: string; Context?: { librarySectionID: string } } }[] = [];
    ws.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { NotificationContainer: { type: string; ActivityNotification: (typeof events)[number][] } };
      expect(message.NotificationContainer.type).toBe('activity');
      events.push(...message.NotificationContainer.ActivityNotification);
    });
    await api(`/library/sections?name=Movies&type=movie&location=${encodeURIComponent(media.roots.movies)}`, { method: 'POST' });
    let seen: Record<string, unknown> | undefined;
    for (let i = 0; i < 200 && !seen; i++) {
      const activities = (await api('/activities')).xml?.MediaContainer as { Activity?: Record<string, unknown>[] };
      seen = activities.Activity?.find((a) => a.type === 'library.update.section' && a.Context);
    }
    expect(seen).toMatchObject({ type: 'library.update.section', cancellable: '1', Context: { librarySectionID: '1' } });
    await sim.jobs.idle();
    const scan = events.filter((e) => e.Activity.type === 'library.update.section');
    expect(scan[0]).toMatchObject({ event: 'started' });
    expect(scan[0]!.Activity.Context).toBeUndefined();
    expect(scan.find((e) => e.event === 'updated')?.Activity.Context).toEqual({ librarySectionID: '1' });
    expect(scan.at(-1)!.event).toBe('ended');
    ws.close();
  });

  it('serves notifications only on the plural path', async () => {
    const { sim } = await startTestSim();
    const ws = new WebSocket(sim.url.replace('http', 'ws') + '/:/websocket/notifications');
    const status = await new Promise((resolve) => ws.once('unexpected-response', (_, res) => resolve(res.statusCode)).once('error', () => resolve('error')));
    expect(status).toBe(404);
  });

  it('DELETE …/refresh cancels a running scan; DELETE /activities/{uuid} refuses what is not cancellable', async () => {
    const { sim, api, media, addSection } = await startTestSim({ media: { artists: 3, albums: 3, tracks: 6 } });
    const id = await addSection('Music', 'artist', media.roots.music);
    sim.runtime.options.speed = 1; // slow the next scan down
    void sim.jobs.scan(id, { force: true });
    await vi.waitFor(() => expect(sim.runtime.activities.list()).toContainEqual(expect.objectContaining({ type: 'library.update.section' })), {
      timeout: 5_000,
    });
    expect((await api(`/library/sections/${id}/refresh`, { method: 'DELETE' })).status).toBe(200);
    sim.runtime.options.speed = 10_000;
    await sim.jobs.idle();
    expect(sim.runtime.activities.list().filter((a) => a.type === 'library.update.section')).toEqual([]);
    expect((await api('/activities/not-a-uuid', { method: 'DELETE' })).status).toBe(404);
  });

  it('answers unknown paths with 404 html, as PMS does', async () => {
    const { api } = await startTestSim();
    const reply = await api('/library/sections/1/onDeck');
    expect(reply.status).toBe(404);
    expect(reply.headers.get('content-type')).toBe('text/html');
  });
});

describe('plex-sim JSON and notifications', () => {
  it('answers every endpoint plexlift uses in JSON with typed values', async () => {
    const { sim, api, media, addSection } = await startTestSim();
    const id = await addSection('Movies', 'movie', media.roots.movies);
    await sim.ready;
    const json = async (path: string) => JSON.parse((await api(path, { json: true })).text) as Record<string, Record<string, unknown>>;
    expect((await json('/')).MediaContainer).toMatchObject({ size: 25, allowSync: false, myPlex: true, version: '1.43.2.10687-563d026ea' });
    expect((await json('/activities')).MediaContainer).toEqual({ size: 0 });
    expect((await json('/butler')).ButlerTasks!.ButlerTask).toContainEqual({ name: 'MusicAnalysis', interval: 1, scheduleRandomized: false, enabled: true });
    expect((await json(`/library/sections/${id}/timeline`)).LibraryTimeline).toMatchObject({ updateQueueSize: 0, title1: 'Movies' });
    expect((await json('/myplex/account')).MyPlex).toMatchObject({ subscriptionActive: false, signInState: 'none' });
    expect((await json(`/library/sections/${id}`)).MediaContainer).toMatchObject({ size: 1, librarySectionID: id });
  });

  it('POST …/refresh scans too; force=1 refreshes every item and writes its Metadata bundle', async () => {
    const { sim, api, media, addSection } = await startTestSim();
    const id = await addSection('Movies', 'movie', media.roots.movies);
    const before = sim.runtime.library.db.prepare(`SELECT max(refreshed_at) FROM metadata_items`).pluck().get() as number;
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // refreshed_at has a one-second grain
    expect((await api(`/library/sections/${id}/refresh?force=1`, { method: 'POST' })).status).toBe(200);
    await sim.jobs.idle();
    const items = sim.runtime.library.db.prepare(`SELECT hash, refreshed_at AS refreshed FROM metadata_items WHERE metadata_type = 1`).all() as {
      hash: string;
      refreshed: number;
    }[];
    expect(items).toHaveLength(3);
    for (const item of items) {
      expect(item.refreshed).toBeGreaterThan(before);
      expect(statSync(`${sim.paths.metadata}/Movies/${item.hash[0]}/${item.hash.slice(1)}.bundle/Contents/_combined/Info.xml`).isFile()).toBe(true);
    }
  });

  it('publishes timeline and status notifications during a scan', async () => {
    const { sim, api, media } = await startTestSim({ speed: 500 });
    await sim.ready;
    const ws = new WebSocket(sim.url.replace('http', 'ws') + '/:/websockets/notifications?filters=timeline,status');
    await new Promise((resolve) => ws.once('open', resolve));
    const types = new Map<string, Record<string, unknown>[]>();
    ws.on('message', (data: Buffer) => {
      const { NotificationContainer: n } = JSON.parse(data.toString()) as { NotificationContainer: Record<string, unknown> & { type: string } };
      const entries = (n.TimelineEntry ?? n.StatusNotification) as Record<string, unknown>[];
      types.set(n.type, [...(types.get(n.type) ?? []), ...entries]);
    });
    await api(`/library/sections?name=Movies&type=movie&location=${encodeURIComponent(media.roots.movies)}`, { method: 'POST' });
    await sim.jobs.idle();
    // The last notifications of the scan are still on their way.
    await vi.waitFor(() => {
      expect(types.get('timeline')).toContainEqual(expect.objectContaining({ state: 5 }));
      expect(types.get('status')).toContainEqual(expect.objectContaining({ title: 'Library scan complete', notificationName: 'LIBRARY_UPDATE' }));
    });
    ws.close();
    expect([...types.keys()].sort()).toEqual(['status', 'timeline']);
    expect(types.get('timeline')).toContainEqual(
      expect.objectContaining({ identifier: 'com.plexapp.plugins.library', sectionID: '1', type: 1, state: 0, metadataState: 'created' }),
    );
  });
});
