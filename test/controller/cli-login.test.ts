import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { parseConfig } from '@plexlift/shared';
import { parseJobSpec } from '@plexlift/shared/protocol';
import { startController } from '../../packages/controller/src/controller.js';
import { ensureCertificate } from '../../packages/controller/src/server/tls-certificate.js';
import { freePort } from '../utils/free-port.js';
import { runCli, startCliOnTerminal } from '../utils/run-cli.js';
import { createTempDir } from '../utils/temp-dir.js';

const ADMIN = 'admin-secret-0123456789-login';

/** A self-signed certificate of its own (a new one is what a reinstalled daemon, or an impostor, shows). */
async function certificateIn(dir: string) {
  return ensureCertificate(parseConfig({ server: { stateDir: dir } }, 'test'));
}

/** A daemon's API over TLS on `port`, with one job to list. */
async function daemonOn(port: number, certificate: { cert: string; key: string }) {
  const controller = await startController({
    stateDir: createTempDir(),
    adminToken: ADMIN,
    host: '127.0.0.1',
    port,
    tls: certificate,
    agentJob: () => Promise.reject(new Error('no agent in this test')),
  });
  onTestFinished(() => controller.close());
  const spec = parseJobSpec({
    jobId: 'job-login',
    mode: 'delta',
    plex: { version: '1.43.2.10687-563d026ea' },
    media: { mountPath: '/Media', remote: 's3:media' },
  });
  controller.jobs.create({ id: 'job-login', library: 'home', provider: 'local', spec, options: { keep: false, noInstall: false } });
  return controller;
}

/** A user with their own home and config folder, and the admin token in a file of theirs. */
function user() {
  const home = createTempDir();
  const tokenFile = join(home, 'admin-token');
  writeFileSync(tokenFile, `${ADMIN}\n`, { mode: 0o600 });
  const env = { HOME: home, XDG_CONFIG_HOME: join(home, 'config'), PLEXLIFT_URL: undefined, PLEXLIFT_TOKEN: undefined, PLEXLIFT_FINGERPRINT: undefined };
  return { home, tokenFile, env, profile: join(home, 'config', 'plexlift', 'profile.json') };
}

describe('plexlift login: a profile instead of PLEXLIFT_URL, PLEXLIFT_TOKEN and PLEXLIFT_FINGERPRINT', () => {
  it(
    'checks the certificate and the token, keeps URL, fingerprint and token file 0600, and later commands need no variables',
    { timeout: 60_000 },
    async () => {
      const port = await freePort();
      const certificate = await certificateIn(createTempDir());
      await daemonOn(port, certificate);
      const { tokenFile, env, profile } = user();
      const url = `https://127.0.0.1:${port}`;

      const login = await runCli(['login', url, '--token-file', tokenFile, '--yes'], { env });
      expect(login.stderr).toContain(certificate.fingerprint);
      expect(login).toMatchObject({
        status: 0,
        stdout: expect.stringMatching(/^logged in to https:\/\/127\.0\.0\.1:\d+ \(daemon \S+\); .*profile\.json \(mode 0600\)/),
      });
      expect(statSync(profile).mode & 0o777).toBe(0o600);
      expect(statSync(join(profile, '..')).mode & 0o777).toBe(0o700);
      const saved = readFileSync(profile, 'utf8');
      // The token stays in the user's file: the profile names it.
      expect(saved).not.toContain(ADMIN);
      expect(JSON.parse(saved)).toEqual({ url, fingerprint: certificate.fingerprint, tokenFile });

      const jobs = await runCli(['jobs'], { env });
      expect(jobs).toMatchObject({ status: 0, stdout: expect.stringContaining('job-login') });
      // The variables still come first: here, a daemon that is not there.
      const elsewhere = await runCli(['jobs'], { env: { ...env, PLEXLIFT_URL: `http://127.0.0.1:${await freePort()}`, PLEXLIFT_TOKEN: ADMIN } });
      expect(elsewhere.status).toBe(8);

      const logout = await runCli(['logout'], { env });
      expect(logout).toMatchObject({ status: 0, stdout: `removed ${profile}\n` });
      expect(existsSync(profile)).toBe(false);
      expect((await runCli(['logout'], { env })).stdout).toMatch(/^not logged in/);
    },
  );

  it('a refused token exits 7 and saves nothing; so does a certificate other than --fingerprint', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const certificate = await certificateIn(createTempDir());
    await daemonOn(port, certificate);
    const { home, env, profile } = user();
    const wrongToken = join(home, 'wrong-token');
    writeFileSync(wrongToken, 'not-the-admin-token\n', { mode: 0o600 });
    const url = `https://127.0.0.1:${port}`;

    const refused = await runCli(['login', url, '--token-file', wrongToken, '--fingerprint', certificate.fingerprint], { env });
    expect(refused).toMatchObject({ status: 7, stderr: expect.stringMatching(/refused the admin token \(check the token given; nothing was saved\)/) });
    expect(refused.stderr).not.toContain('not-the-admin-token');
    expect(existsSync(profile)).toBe(false);

    const other = await certificateIn(createTempDir());
    const pinned = await runCli(['login', url, '--token-file', join(home, 'admin-token'), '--fingerprint', other.fingerprint.replace(/:/g, '').toLowerCase()], {
      env,
    });
    expect(pinned).toMatchObject({ status: 7, stderr: expect.stringMatching(/not --fingerprint .*nothing was sent/) });
    expect(existsSync(profile)).toBe(false);
  });

  it('refuses http to another machine before any connection, and an unconfirmed certificate without a terminal', { timeout: 60_000 }, async () => {
    const { tokenFile, env, profile } = user();
    // TEST-NET-1: nothing answers there; a refusal that connected first would hang, not exit 2 at once.
    const started = Date.now();
    const clear = await runCli(['login', 'http://192.0.2.1:7878', '--token-file', tokenFile, '--yes'], { env });
    expect(clear).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/http:\/\/192\.0\.2\.1:7878 is not this machine: the admin token would cross the network in clear/),
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await runCli(['login', 'https://192.0.2.1:7878', '--yes'], { env })).stderr).toMatch(/--token-file FILE or --token-stdin/);

    const port = await freePort();
    const certificate = await certificateIn(createTempDir());
    await daemonOn(port, certificate);
    const unconfirmed = await runCli(['login', `https://127.0.0.1:${port}`, '--token-file', tokenFile], { env });
    expect(unconfirmed).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(new RegExp(`no terminal to ask on.*--fingerprint ${certificate.fingerprint} \\(or --yes`)),
    });
    expect(existsSync(profile)).toBe(false);
  });

  it('a profile that others can read, that is a link, or that names http to another machine is refused before any call', async () => {
    const { tokenFile, env, profile } = user();
    mkdirSync(dirname(profile), { recursive: true, mode: 0o700 });
    const write = (url: string, mode: number) => {
      rmSync(profile, { force: true });
      writeFileSync(profile, JSON.stringify({ url, tokenFile }), { mode });
      chmodSync(profile, mode);
    };
    write('https://127.0.0.1:1', 0o644);
    expect(await runCli(['jobs'], { env })).toMatchObject({
      status: 78,
      stderr: expect.stringMatching(/profile .* can be read or written by others \(mode 644\)/),
    });
    // TEST-NET-1: an edited profile never sends the token in clear to another host.
    write('http://192.0.2.1:7878', 0o600);
    const started = Date.now();
    expect(await runCli(['jobs'], { env })).toMatchObject({ status: 78, stderr: expect.stringMatching(/names a daemon plexlift login refuses/) });
    expect(Date.now() - started).toBeLessThan(10_000);
    const elsewhere = join(createTempDir(), 'profile.json');
    writeFileSync(elsewhere, JSON.stringify({ url: 'https://127.0.0.1:1', tokenFile }), { mode: 0o600 });
    rmSync(profile);
    symlinkSync(elsewhere, profile);
    expect(await runCli(['jobs'], { env })).toMatchObject({ status: 78, stderr: expect.stringMatching(/profile .* is a link/) });
  });

  it('after login, a daemon with a new certificate is refused with exit 7 and told to log in again', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const daemon = await daemonOn(port, await certificateIn(createTempDir()));
    const { tokenFile, env } = user();
    const url = `https://127.0.0.1:${port}`;
    expect((await runCli(['login', url, '--token-file', tokenFile, '--yes'], { env })).status).toBe(0);
    await daemon.close();
    const renewed = await certificateIn(createTempDir());
    await daemonOn(port, renewed);
    const jobs = await runCli(['jobs'], { env });
    expect(jobs.status).toBe(7);
    expect(jobs.stderr).toContain(`showed a certificate with fingerprint ${renewed.fingerprint}`);
    expect(jobs.stderr).toMatch(
      new RegExp(
        `not the pinned .*if the daemon got a new certificate since plexlift login and you trust it, run plexlift login https://127\\.0\\.0\\.1:${port} again`,
      ),
    );
  });

  it('on a terminal: the token from stdin is not shown and is kept 0600, the fingerprint confirmed by the user', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const certificate = await certificateIn(createTempDir());
    await daemonOn(port, certificate);
    const { env, profile } = user();
    const login = startCliOnTerminal(['login', `https://127.0.0.1:${port}`, '--token-stdin'], { env });
    await vi.waitFor(() => expect(login.screen()).toContain('admin token: '), { timeout: 20_000 });
    login.type(`${ADMIN}\r`);
    await vi.waitFor(() => expect(login.screen()).toContain('[y/N]'), { timeout: 20_000 });
    expect(login.screen()).toContain(certificate.fingerprint);
    login.type('y\r');
    const { status, output } = await login.exited;
    expect(status).toBe(0);
    expect(output).not.toContain(ADMIN);
    expect(statSync(profile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(profile, 'utf8'))).toEqual({ url: `https://127.0.0.1:${port}`, fingerprint: certificate.fingerprint, token: ADMIN });
    expect((await runCli(['jobs'], { env })).stdout).toContain('job-login');
  });
});
