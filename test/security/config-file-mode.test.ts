import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../utils/run-cli.js';
import { createTempDir } from '../utils/temp-dir.js';

const mode = (path: string) => statSync(path).mode & 0o777;

// The config holds tokens: whatever the admin's umask, only its owner may read it (issue 16, item 10).
describe('the config file is readable by its owner only', () => {
  let umask: number;
  beforeAll(() => {
    umask = process.umask(0o022); // the usual umask: files 0644, folders 0755 unless asked otherwise
  });
  afterAll(() => {
    process.umask(umask);
  });

  it('plexlift config set writes 0600 in a 0700 folder and resets a 0644 file to 0600', async () => {
    const folder = join(createTempDir(), 'etc', 'plexlift');
    const file = join(folder, 'config.json');
    const set = (key: string, value: string) => runCli(['config', 'set', key, value, '--config', file]);
    const home = '{"plexDataDir":"/srv/plex","control":{"type":"systemd","unit":"plexmediaserver.service"}}';
    expect(await set('home', home)).toMatchObject({ status: 0 });
    expect(mode(folder)).toBe(0o700);
    expect(mode(file)).toBe(0o600);

    chmodSync(file, 0o644); // as an older plexlift or a copy left it
    expect(await set('home.plexToken', 'very-secret-token')).toMatchObject({ status: 0 });
    expect(mode(file)).toBe(0o600);
  });

  it('plexlift init writes 0600 in a 0700 folder, also over a 0644 file with --force', async () => {
    const folder = join(createTempDir(), 'etc', 'plexlift');
    const file = join(folder, 'config.json');
    const flags = ['--plex-data-dir', '/srv/plex', '--control', 'docker:plex', '--media-path', '/media', '--remote', 'media:library'];
    expect(await runCli(['init', ...flags, '--config', file])).toMatchObject({ status: 0 });
    expect(mode(folder)).toBe(0o700);
    expect(mode(file)).toBe(0o600);

    const other = join(createTempDir(), 'config.json');
    mkdirSync(join(other, '..'), { recursive: true });
    writeFileSync(other, '{}', { mode: 0o644 });
    expect(await runCli(['init', ...flags, '--force', '--config', other])).toMatchObject({ status: 0 });
    expect(mode(other)).toBe(0o600);
  });
});
