import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { createMediaTree } from '../utils/media-tree.js';
import { runStockSqlite3 } from '../utils/sqlite-files.js';
import { createTempDir } from '../utils/temp-dir.js';
import { dataDirPaths } from './data-dir.js';
import type { PlexSimOptions } from './options.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

/** Runs the double as its own process, as the image runs PMS. */
async function startProcess(dir: string, knobs: Partial<PlexSimOptions>, env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; url: string }> {
  const config = join(dir, 'knobs.json');
  writeFileSync(config, JSON.stringify({ speed: 10_000, ...knobs }));
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', MAIN, '--data-dir', join(dir, 'config'), '--port', '0', '--host', '127.0.0.1', '--config', config],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...env },
    },
  );
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });
  let output = '';
  for await (const chunk of child.stdout) {
    output += String(chunk);
    const match = /listening (\S+)/.exec(output);
    if (match) return { child, url: match[1]! };
  }
  throw new Error(`plex-sim exited before listening: ${output}`);
}

/** Creates the Music section, asking again while the server is still starting. */
async function createSection(url: string, location: string): Promise<void> {
  await vi.waitFor(
    async () => {
      const reply = await fetch(`${url}/library/sections?name=Music&type=artist&location=${encodeURIComponent(location)}`, { method: 'POST' });
      expect(reply.status, 'the section is created').toBe(200);
    },
    { timeout: 5_000, interval: 20 },
  );
}

/** Waits until the scan has put every track in the DB (the API's count). */
async function waitForTracks(url: string, tracks: number): Promise<void> {
  await vi.waitFor(
    async () => {
      const reply = await fetch(`${url}/library/sections/1/all?type=10&X-Plex-Container-Size=0`);
      expect(await reply.text(), 'every track scanned').toContain(`totalSize="${tracks}"`);
    },
    { timeout: 10_000, interval: 20 },
  );
}

describe('plex-sim as a process', () => {
  it('stops cleanly on SIGTERM: objects back, WAL folded in, exit 0', async () => {
    const dir = createTempDir();
    const media = createMediaTree(join(dir, 'media'));
    const { child, url } = await startProcess(dir, {});
    await createSection(url, media.roots.music);
    const paths = dataDirPaths(join(dir, 'config'));
    await waitForTracks(url, media.tracks.length);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(existsSync(`${paths.mainDb}-wal`)).toBe(false);
    expect(runStockSqlite3(paths.mainDb, 'SELECT count(*) FROM metadata_items WHERE metadata_type = 10').stdout).toBe(`${media.tracks.length}\n`);
    expect(runStockSqlite3(paths.mainDb, 'PRAGMA integrity_check').stderr).toMatch(/icu_root/);
    expect(readFileSync(paths.log, 'utf8')).toContain('Shutting down with signal 15 (Terminated)');
  });

  it('killed past the grace period (the image: SIGTERM, 5 s, SIGKILL), it leaves -wal and -shm behind; the next clean stop repairs the schema', async () => {
    const dir = createTempDir();
    const media = createMediaTree(join(dir, 'media'));
    const first = await startProcess(dir, { faults: { slowShutdownMs: 60_000 } });
    await createSection(first.url, media.roots.music);
    await waitForTracks(first.url, media.tracks.length);
    const paths = dataDirPaths(join(dir, 'config'));
    first.child.kill('SIGTERM');
    await vi.waitFor(
      () => expect(readFileSync(paths.log, 'utf8').includes('Server stopped.'), 'in its slow shutdown: the server stopped, the database still open').toBe(true),
      { timeout: 5_000 },
    );
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    expect(statSync(`${paths.mainDb}-wal`).size).toBeGreaterThan(0);
    expect(existsSync(`${paths.mainDb}-shm`)).toBe(true);

    const second = await startProcess(dir, {});
    second.child.kill('SIGTERM');
    await once(second.child, 'exit');
    expect(runStockSqlite3(paths.mainDb, 'PRAGMA integrity_check').stderr).toMatch(/icu_root/);
    expect(runStockSqlite3(paths.mainDb, 'SELECT count(*) FROM metadata_items WHERE metadata_type = 10').stdout).toBe(`${media.tracks.length}\n`);
  });

  it('crashAfterItems: dies by SIGKILL in the middle of a scan', async () => {
    const dir = createTempDir();
    const media = createMediaTree(join(dir, 'media'), { artists: 4, albums: 3, tracks: 10 });
    const { child, url } = await startProcess(dir, { faults: { crashAfterItems: 50 } });
    await createSection(url, media.roots.music).catch(() => undefined);
    const [, signal] = await once(child, 'exit');
    expect(signal).toBe('SIGKILL');
    const paths = dataDirPaths(join(dir, 'config'));
    expect(existsSync(`${paths.mainDb}-wal`)).toBe(true);
    const tracks = Number(runStockSqlite3(paths.mainDb, 'SELECT count(*) FROM metadata_items WHERE metadata_type = 10').stdout);
    expect(tracks).toBeGreaterThan(0);
    expect(tracks).toBeLessThan(media.tracks.length);
  });

  it('takes PLEX_CLAIM, PLEX_UID/PLEX_GID and TZ from the environment, as the image does', async () => {
    const dir = createTempDir();
    chmodSync(dir, 0o755); // the plex user must reach its config dir
    const hour = () => new Intl.DateTimeFormat('en-US', { timeZone: 'Europe/Paris', hour: '2-digit', hourCycle: 'h23' }).format(new Date());
    const before = hour();
    expect(process.getuid?.()).toBe(0); // the image starts as root and drops to PLEX_UID
    const { child, url } = await startProcess(dir, {}, { TZ: 'Europe/Paris', PLEX_CLAIM: 'claim-nothing-to-exchange', PLEX_UID: '1000', PLEX_GID: '1000' });
    const identity = await (await fetch(`${url}/identity`)).text();
    expect(identity).toContain('claimed="0"');
    child.kill('SIGTERM');
    await once(child, 'exit');
    const paths = dataDirPaths(join(dir, 'config'));
    // Without a plex.tv to exchange with, the claim is refused and logged; the server stays unclaimed.
    const log = readFileSync(paths.log, 'utf8');
    expect(log).toContain('MyPlex: cannot claim the server');
    expect([before, hour()]).toContain(/^\w{3} \d{2}, \d{4} (\d{2}):/.exec(log)?.[1]);
    expect(statSync(paths.preferences)).toMatchObject({ uid: 1000, gid: 1000 });
    expect(statSync(paths.mainDb)).toMatchObject({ uid: 1000, gid: 1000 });
  });
});
