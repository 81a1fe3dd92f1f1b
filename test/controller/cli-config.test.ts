import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, runCliOnTerminal } from '../utils/run-cli.js';
import { createTempDir } from '../utils/temp-dir.js';

describe('plexlift config get|set', () => {
  it('checks the whole config before writing: a bad value names its key and changes nothing; secrets are never shown', async () => {
    const file = join(createTempDir(), 'etc', 'config.json');
    const cli = (...args: string[]) => runCli(['config', ...args, '--config', file]);

    const incomplete = await cli('set', 'home.plexDataDir', '/srv/plex');
    expect(incomplete).toMatchObject({ status: 78, stderr: expect.stringMatching(/home\.control: /) });
    expect(existsSync(file)).toBe(false);

    expect((await cli('set', 'home', '{"plexDataDir":"/srv/plex","control":{"type":"systemd","unit":"plexmediaserver.service"}}')).status).toBe(0);
    const written = readFileSync(file, 'utf8');
    const badUrl = await cli('set', 'home.plexUrl', 'not a url');
    expect(badUrl).toMatchObject({ status: 78, stderr: expect.stringMatching(/home\.plexUrl: must be a URL/) });
    const typo = await cli('set', 'server.prot', '8080');
    expect(typo).toMatchObject({ status: 2, stderr: expect.stringMatching(/plexlift: config: no key server\.prot .*nothing was written/) });
    // Under a key the config does not have, too: the same usage error, not a config error.
    const deeper = await cli('set', 'home.foo.bar', '1');
    expect(deeper).toMatchObject({ status: 2, stderr: expect.stringMatching(/plexlift: config: no key home\.foo\.bar .*nothing was written/) });
    expect(readFileSync(file, 'utf8')).toBe(written);

    expect((await cli('set', 'home.plexToken', 'very-secret-token')).status).toBe(0);
    expect((await cli('set', 'home.backups.keep', '5')).status).toBe(0);
    expect(JSON.parse((await cli('get', 'home.backups.keep')).stdout)).toBe(5);
    expect(JSON.parse((await cli('get', 'home.plexUrl')).stdout)).toBe('http://127.0.0.1:32400'); // the default
    const all = await cli('get');
    expect(all.stdout).not.toContain('very-secret-token');
    expect(JSON.parse(all.stdout)).toMatchObject({ home: { plexToken: '(set)', control: { type: 'systemd' } }, server: { port: 7878 } });
    expect(await cli('get', 'home.nothing')).toMatchObject({ status: 2, stderr: expect.stringMatching(/no key home\.nothing/) });
  });
  it('an empty config file is an empty config for set as for get', async () => {
    const file = join(createTempDir(), 'config.json');
    writeFileSync(file, '\n');
    const cli = (...args: string[]) => runCli(['config', ...args, '--config', file]);
    expect(JSON.parse((await cli('get', 'server.port')).stdout)).toBe(7878);
    expect(await cli('set', 'server.port', '9000')).toMatchObject({ status: 0, stdout: `server.port set in ${file}\n` });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ server: { port: 9000 } });
  });
});

describe('plexlift init', () => {
  it('writes a checked config from flags, names what is missing or wrong, and never overwrites by surprise', async () => {
    const file = join(createTempDir(), 'config.json');
    const init = (...args: string[]) => runCli(['init', ...args, '--config', file]);
    expect(await init('--plex-data-dir', '/srv/plex')).toMatchObject({ status: 2, stderr: expect.stringMatching(/missing --control, --media-path, --remote/) });
    expect(await init('--plex-data-dir', '/srv/plex', '--control', 'kubernetes:plex', '--media-path', '/media', '--remote', 's3:media')).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/--control: "kubernetes:plex" is neither docker:CONTAINER nor systemd:UNIT/),
    });
    expect(await init('--plex-data-dir', 'srv/plex', '--control', 'docker:plex', '--media-path', '/media', '--remote', 's3:media')).toMatchObject({
      status: 78,
      stderr: expect.stringMatching(/home\.plexDataDir: must be an absolute path/),
    });
    expect(existsSync(file)).toBe(false);
    const ok = await init(
      '--plex-data-dir',
      '/srv/plex',
      '--control',
      'docker:plex',
      '--media-path',
      '/media',
      '--remote',
      's3:media',
      '--provider',
      'local',
      '--plex-command',
      '["/usr/lib/plexmediaserver/Plex Media Server"]',
    );
    expect(ok).toMatchObject({ status: 0, stdout: expect.stringMatching(/wrote .*config\.json; checked: .*Not checked: .*check them with plexlift doctor/) });
    const asJson = await runCli([
      'init',
      '--json',
      '--config',
      `${file}.2`,
      '--plex-data-dir',
      '/srv/plex',
      '--control',
      'docker:plex',
      '--media-path',
      '/media',
      '--remote',
      's3:media',
    ]);
    expect(JSON.parse(asJson.stdout)).toEqual({
      path: `${file}.2`,
      warnings: [
        expect.stringMatching(/^home\.plexDataDir: \/srv\/plex holds no Plex library database/),
        ...(existsSync('/media') ? [] : [expect.any(String)]),
      ],
      notChecked: ['home Plex answers', 'the remote lists', 'the provider works'],
    });
    // What this machine shows is said at once: /srv/plex holds no Plex library here.
    expect(ok.stderr).toMatch(/warning: home\.plexDataDir: \/srv\/plex holds no Plex library database/);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({
      home: { plexDataDir: '/srv/plex', control: { type: 'docker', container: 'plex' } },
      media: { remote: 's3:media' },
      provider: 'local',
    });
    expect(await init('--plex-data-dir', '/x', '--control', 'docker:plex', '--media-path', '/media', '--remote', 's3:media')).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/exists; edit it with plexlift config set, or pass --force/),
    });
  });
});

describe('plexlift init on a terminal', () => {
  it('asks for what the flags leave out, says what is wrong with an answer and asks again, then writes a checked config', async () => {
    const file = join(createTempDir(), 'config.json');
    const typed = ['relative/plex', '/srv/plex', '', 'kubernetes:plex', 'systemd:plexmediaserver.service', '/media', 'no-colon', 's3:media', ''].join('\n');
    const { status, output } = await runCliOnTerminal(['init', '--config', file], typed);
    expect(status, output).toBe(0);
    expect(output).toMatch(/the home Plex's data folder \(…\/Plex Media Server\): +home\.plexDataDir: must be an absolute path/);
    expect(output).toMatch(/--control: "kubernetes:plex" is neither docker:CONTAINER nor systemd:UNIT/);
    expect(output).toMatch(/media\.remote: must be an rclone remote path/);
    expect(output).toMatch(/wrote .*config\.json; checked: .*Not checked: .*check them with plexlift doctor/);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      server: {},
      home: { plexDataDir: '/srv/plex', plexUrl: 'http://127.0.0.1:32400', control: { type: 'systemd', unit: 'plexmediaserver.service' } },
      media: { mountPath: '/media', remote: 's3:media' },
    });
  });

  it('three wrong answers, or the input ending, stop it with nothing written', async () => {
    const file = join(createTempDir(), 'config.json');
    const wrong = await runCliOnTerminal(['init', '--config', file, '--plex-data-dir', '/srv/plex', '--plex-url', 'http://127.0.0.1:32400'], 'a:b\nc:d\ne:f\n');
    expect(wrong.status).toBe(2);
    expect(wrong.output).toMatch(/plexlift: --control: "e:f" is neither/);
    expect(existsSync(file)).toBe(false);
    const ended = await runCliOnTerminal(['init', '--config', file], '/srv/plex\n');
    expect(ended.status).toBe(2);
    expect(ended.output).toMatch(/the input ended before every question was answered; nothing written/);
    expect(existsSync(file)).toBe(false);
  });
});
