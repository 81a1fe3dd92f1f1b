import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../utils/free-port.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startPlexTvSim, type PlexTvSim } from '../plex-tv-sim/plex-tv-sim.js';
import { startDockerSandbox, type DockerEngine, type DockerSandbox } from '../utils/docker-engine.js';
import { createMediaTree } from '../utils/media-tree.js';
import { runStockSqlite3 } from '../utils/sqlite-files.js';
import { dataDirPaths } from './data-dir.js';
import { buildPlexSimImage } from './image/build-plex-sim-image.js';

const IMAGE = 'plexlift/plex-sim:test';

describe('plex-sim Docker image', () => {
  let root: string;
  let engine: DockerEngine;
  let sandbox: DockerSandbox | undefined;
  let tv: PlexTvSim;

  beforeAll(async () => {
    sandbox = await startDockerSandbox('plexlift-docker-');
    ({ root, engine } = sandbox);
    await buildPlexSimImage(engine, IMAGE);
    tv = await startPlexTvSim({ accountToken: 'owner-token' });
  }, 180_000);

  afterAll(async () => {
    await tv?.close();
    await sandbox?.close();
  });

  it('builds locally from scratch, with no registry', () => {
    const history = engine.docker([
      'image',
      'inspect',
      IMAGE,
      '--format',
      '{{json .Config.Volumes}} {{json .Config.ExposedPorts}} {{.Config.Healthcheck.Test}}',
    ]);
    expect(history).toContain('"/config":{}');
    expect(history).toContain('"/transcode":{}');
    expect(history).toContain('"32400/tcp":{}');
    expect(history).toContain('/app/healthcheck.mjs');
    expect(engine.docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'])).toContain(IMAGE);
  });

  it('runs like plexinc/pms-docker: claim, PLEX_UID/PLEX_GID, media read-only, health on /identity, clean stop', async () => {
    const config = join(root, 'config');
    const media = createMediaTree(join(root, 'media'));
    const port = await freePort();
    const claim = ((await (await fetch(`${tv.url}/api/claim/token.json`, { headers: { 'X-Plex-Token': 'owner-token' } })).json()) as { token: string }).token;
    const container = engine
      .docker([
        'run',
        '-d',
        '--network',
        'host',
        '--name',
        'plex-sim-test',
        '-e',
        `PLEX_CLAIM=${claim}`,
        '-e',
        'PLEX_UID=1000',
        '-e',
        'PLEX_GID=1000',
        '-e',
        'TZ=Europe/Paris',
        '-e',
        `PLEX_SIM_PORT=${port}`,
        '-e',
        `PLEX_TV_URL=${tv.url}`,
        '-v',
        `${config}:/config`,
        '-v',
        `${join(root, 'transcode')}:/transcode`,
        '-v',
        `${join(root, 'media')}:/media:ro`,
        IMAGE,
        '--speed',
        '10000',
      ])
      .trim();
    await vi.waitFor(() => expect(engine.docker(['inspect', '--format', '{{.State.Health.Status}}', container]).trim()).toBe('healthy'), {
      timeout: 30_000,
      interval: 250,
    });
    const paths = dataDirPaths(config);
    const token = /PlexOnlineToken="([^"]+)"/.exec(readFileSync(paths.preferences, 'utf8'))?.[1];
    expect(token).toBe(tv.serverTokens[0]);
    const url = `http://127.0.0.1:${port}`;
    expect(await (await fetch(`${url}/identity`)).text()).toContain('claimed="1"');
    expect((await fetch(`${url}/library/sections`)).status).toBe(401);
    const created = await fetch(`${url}/library/sections?name=Movies&type=movie&location=/media/Movies&X-Plex-Token=${token!}`, { method: 'POST' });
    expect(created.status).toBe(200);
    const mounts = engine.docker(['inspect', '--format', '{{range .Mounts}}{{.Destination}}={{.RW}} {{end}}', container]);
    expect(mounts).toContain('/media=false');
    await vi.waitFor(
      async () => {
        const listing = await fetch(`${url}/library/sections/1/all?type=1&X-Plex-Container-Size=0&X-Plex-Token=${token!}`);
        expect(await listing.text(), 'every film scanned').toContain(`totalSize="${media.movies.length}"`);
      },
      { timeout: 10_000 },
    );
    engine.docker(['stop', '--time', '5', container]);
    expect(engine.docker(['inspect', '--format', '{{.State.ExitCode}}', container]).trim()).toBe('0');
    expect(runStockSqlite3(paths.mainDb, `SELECT file FROM media_parts ORDER BY file`).stdout.trim().split('\n')).toEqual(
      media.movies.map((f) => f.replace(join(root, 'media'), '/media')).sort(),
    );
    expect(runStockSqlite3(paths.mainDb, 'PRAGMA integrity_check').stderr).toMatch(/icu_root/);
    expect(statSync(paths.mainDb)).toMatchObject({ uid: 1000, gid: 1000 });
    engine.docker(['rm', container]);
  });
});
