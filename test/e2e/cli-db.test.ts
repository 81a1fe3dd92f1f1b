import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateLibrary } from '../utils/library-generator.js';
import { runCli } from '../utils/run-cli.js';
import { destroyPage, fingerprint } from '../utils/sqlite-files.js';
import { createTempDir } from '../utils/temp-dir.js';

describe('plexlift db stats', () => {
  it('prints the documented JSON', async () => {
    const library = generateLibrary({ dir: createTempDir(), size: 'tiny', deletedRatio: 0.1 });
    const result = await runCli(['db', 'stats', library.mainDb, '--json']);
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ sections: library.expected.sections, sonic: library.sonic });
    expect(Object.keys(JSON.parse(result.stdout).sections[0].counts)).toEqual(['movie', 'show', 'season', 'episode', 'artist', 'album', 'track', 'photo']);
  });

  it('prints a table for people', async () => {
    const library = generateLibrary({ dir: createTempDir(), size: 'tiny', sonicRatio: 1 });
    const result = await runCli(['db', 'stats', library.mainDb]);
    expect(result.stdout).toMatch(/^section\s+id\s+type\s+movies/);
    expect(result.stdout).toMatch(/Sonic analysis, Music: 24 of 24 tracks \(100\.0 %\)/);
  });
});

describe('plexlift db check', () => {
  it('exits 0 on a healthy DB and 3 on a damaged one', async () => {
    const library = generateLibrary({ dir: createTempDir(), size: 'small' });
    const healthy = await runCli(['db', 'check', library.mainDb, '--json']);
    expect(healthy.status).toBe(0);
    expect(JSON.parse(healthy.stdout)).toMatchObject({ ok: true, databases: [{ ok: true }, { ok: true, path: library.blobsDb }] });

    destroyPage(library.mainDb, 'media_items');
    const damaged = await runCli(['db', 'check', library.mainDb]);
    expect(damaged.status).toBe(3);
    expect(damaged.stdout).toMatch(/CORRUPT\n\s+damaged: media_items/);
  });
});

describe('plexlift db repair', () => {
  it('recovers into --out and reports the loss', async () => {
    const dir = createTempDir();
    const library = generateLibrary({ dir, size: 'small' });
    const page = destroyPage(library.mainDb, 'media_parts');
    const result = await runCli(['db', 'repair', library.mainDb, '--out', join(dir, 'new.db'), '--engine', 'sqlite3']);
    expect(result.stderr).toBe('copying the damaged DB\ncounting what it still shows\nrecovering\nverifying the result\n');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`Data LOST: ${page.cells} rows.`);
    expect(result.stdout).toContain('index index_title_sort_icu');
  });

  it('rejects bad arguments with exit 2 and writes nothing', async () => {
    const dir = createTempDir();
    const library = generateLibrary({ dir, size: 'tiny' });
    expect(await runCli(['db', 'repair', library.mainDb])).toMatchObject({ status: 2, stderr: expect.stringMatching(/required option '--out <file>'/) });
    expect(await runCli(['db', 'repair', library.mainDb, '--out', join(dir, 'x.db'), '--engine', 'sqlite4'])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/sqlite4.*Allowed choices are plex-sqlite, sqlite3/),
    });
    expect(await runCli(['db', 'repair', library.mainDb, '--out', library.mainDb])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/--out: .* in place/),
    });
  });

  it('names the config field of an engine that cannot recover, with exit 78', async () => {
    const dir = createTempDir();
    const library = generateLibrary({ dir, size: 'tiny' });
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ database: { sqlite3Path: '/usr/bin/sqlite3' } }));
    const result = await runCli(['--config', config, 'db', 'repair', library.mainDb, '--out', join(dir, 'x.db'), '--engine', 'sqlite3']);
    expect(result).toMatchObject({ status: 78, stderr: expect.stringMatching(/config \(sqlite3Path\): \/usr\/bin\/sqlite3 cannot recover/) });
  });

  it('rejects an invalid config file naming the field, with exit 78', async () => {
    const dir = createTempDir();
    const library = generateLibrary({ dir, size: 'tiny' });
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ database: { sqlite3path: 'relative' } }));
    const result = await runCli(['db', 'check', library.mainDb], { env: { PLEXLIFT_CONFIG: config } });
    expect(result).toMatchObject({ status: 78, stderr: expect.stringMatching(/config .*config\.json: database: unknown key "sqlite3path"/) });
    writeFileSync(config, '{ not json');
    expect(await runCli(['--config', config, 'db', 'check', library.mainDb])).toMatchObject({ status: 78, stderr: expect.stringMatching(/not valid JSON/) });
  });
});

describe('plexlift db remap', () => {
  it('dry-runs then remaps, splitting --map at the first =', async () => {
    const library = generateLibrary({ dir: createTempDir(), size: 'tiny' });
    const before = fingerprint(library.mainDb);
    const dry = await runCli(['db', 'remap', library.mainDb, '--map', '/Media/Movies=/mnt/a=b', '--dry-run', '--json']);
    expect(dry.status).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, mappings: [{ from: '/Media/Movies', to: '/mnt/a=b' }], leftovers: [] });
    expect(fingerprint(library.mainDb)).toBe(before);

    const real = await runCli(['db', 'remap', library.mainDb, '--map', '/Media/Movies=/mnt/a=b', '--map', '/Photo/=/mnt/photo/']);
    expect(real.status).toBe(0);
    expect(real.stdout).toMatch(/Verified: no old prefix left in any text column of the main and blobs DBs/);
    const stats = await runCli(['db', 'stats', library.mainDb, '--json']);
    expect(JSON.parse(stats.stdout).sections).toEqual(library.expected.sections);
  });

  it.each([
    [['--map', 'Media=/x'], /--map \(Media=\/x\) FROM: "Media" is not an absolute path/],
    [['--map', '/Media/TV'], /expected FROM=TO/],
    [[], /at least one mapping/],
    [['--map', '/a=/b', '--map', '/b=/c'], /chain/],
  ])('rejects %j with exit 2 and no write', async (args, message) => {
    const library = generateLibrary({ dir: createTempDir(), size: 'tiny' });
    const before = fingerprint(library.mainDb);
    const result = await runCli(['db', 'remap', library.mainDb, ...args]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(fingerprint(library.mainDb)).toBe(before);
  });

  it('stops with exit 6 when an old prefix would be left behind', async () => {
    const library = generateLibrary({ dir: createTempDir(), size: 'tiny' });
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(library.mainDb);
    db.prepare(`UPDATE media_items SET hints = '/Media/Movies/x' WHERE id = 1`).run();
    db.close();
    const result = await runCli(['db', 'remap', library.mainDb, '--map', '/Media/Movies=/films', '--json']);
    expect(result.status).toBe(6);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { code: 'SAFETY_STOP', details: { leftovers: [{ table: 'media_items', column: 'hints' }] } } });
  });
});

describe('plexlift', () => {
  it('exits 2 on an unknown command and names a missing DB file', async () => {
    expect(await runCli(['db', 'frobnicate'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/unknown command 'frobnicate'/) });
    expect(await runCli(['db', 'stats', '/nonexistent/library.db'])).toMatchObject({
      status: 2,
      stderr: 'plexlift: DB: /nonexistent/library.db does not exist or cannot be read\n',
    });
    expect(await runCli(['--version'])).toMatchObject({ status: 0, stdout: '0.1.0\n' });
  });
});
