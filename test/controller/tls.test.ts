import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseConfig, PlexliftError } from '@plexlift/shared';
import { parseJobSpec } from '@plexlift/shared/protocol';
import { fingerprintOf, normalizeFingerprint, PinnedTls } from '@plexlift/shared/tls';
import { HomeConnection } from '../../packages/agent/src/home/connection.js';
import { Journal } from '../../packages/agent/src/home/journal.js';
import { downloadArchive } from '../../packages/agent/src/home/download-archive.js';
import { createControllerClient } from '../../packages/controller/src/client.js';
import { startController } from '../../packages/controller/src/controller.js';
import { ensureCertificate } from '../../packages/controller/src/server/tls-certificate.js';
import { createTempDir } from '../utils/temp-dir.js';

const spec = parseJobSpec({
  jobId: 'job-0001',
  mode: 'delta',
  plex: { version: '1.43.2.10687-563d026ea' },
  media: { mountPath: '/Media', remote: 's3:media' },
});
const ADMIN = 'admin-secret-0123456789';

async function tlsController() {
  const dir = createTempDir();
  const config = parseConfig({ server: { stateDir: join(dir, 'state'), publicUrl: 'https://home.example:7878' } }, 'test');
  const certificate = await ensureCertificate(config);
  const refused: string[] = [];
  let hellos = 0;
  const controller = await startController({
    stateDir: config.server.stateDir,
    adminToken: ADMIN,
    host: '127.0.0.1',
    tls: { cert: certificate.cert, key: certificate.key },
    agentJob: () => Promise.resolve({ spec, secrets: {}, transfers: { baseUrl: 'https://127.0.0.1:1', token: 't', exportId: 'job-0001-export' } }),
    onHello: () => hellos++,
    onRefused: (where, reason) => refused.push(`${where}: ${reason}`),
  });
  onTestFinished(() => controller.close());
  controller.jobs.create({ id: 'job-0001', library: 'home', provider: 'local', spec, options: { keep: false, noInstall: false } });
  const bootstrap = controller.tokens.issue('job-0001', 'bootstrap', { ttlMs: 600_000 });
  return { dir, config, certificate, controller, bootstrap, refused, hellos: () => hellos };
}

function agent(dir: string, url: string, token: string, fingerprint: string | undefined) {
  const journal = new Journal(join(dir, `agent-${Math.random()}.db`), 'job-0001');
  const connection = new HomeConnection({
    url,
    fingerprint,
    jobId: 'job-0001',
    agentVersion: '0.1.0',
    token: () => token,
    journal,
    onCommand: () => undefined,
    retryDelayMs: () => 50,
  });
  onTestFinished(async () => {
    await connection.close();
    journal.close();
  });
  return connection;
}

/** Another server's certificate: what an agent sees when someone sits between it and home. */
async function impostorFingerprint(): Promise<{ fingerprint: string; cert: string; key: string }> {
  const dir = createTempDir();
  const other = await ensureCertificate(parseConfig({ server: { stateDir: dir } }, 'impostor'));
  return { fingerprint: other.fingerprint, cert: other.cert, key: other.key };
}

describe('TLS with a self-signed certificate that agents pin', () => {
  it('is made once at first start (key 0600), kept across restarts, and names loopback and the public host', async () => {
    const { config, certificate } = await tlsController();
    expect(certificate.created).toBe(true);
    expect(statSync(join(config.server.stateDir, 'tls', 'key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(certificate.certPath).mode & 0o777).toBe(0o644);
    const again = await ensureCertificate(config);
    expect(again.created).toBe(false);
    expect(again.fingerprint).toBe(certificate.fingerprint);
    expect(fingerprintOf(readFileSync(certificate.certPath, 'utf8'))).toBe(certificate.fingerprint);
    const { X509Certificate } = await import('node:crypto');
    const x509 = new X509Certificate(certificate.cert);
    expect(x509.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(x509.subjectAltName).toContain('DNS:home.example');
    expect(new Date(x509.validTo).getTime()).toBeGreaterThan(Date.now() + 5 * 365 * 86_400_000);
  });

  it('an agent with the right fingerprint connects over wss and fetches over https; plain clients are refused the self-signed certificate', async () => {
    const { dir, certificate, controller, bootstrap, hellos } = await tlsController();
    expect(controller.server.wsUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    const connection = agent(dir, controller.server.wsUrl, bootstrap, certificate.fingerprint);
    await connection.start();
    expect(hellos()).toBe(1);
    connection.report({ type: 'log', level: 'info', message: 'over TLS' });
    await connection.drained();
    expect(controller.jobs.events('job-0001').map((e) => e.event)).toEqual([{ type: 'log', level: 'info', message: 'over TLS' }]);
    // Several connections (a new one after the pool's sockets close): each is checked and passes.
    for (let i = 0; i < 3; i++) {
      const health = await connection.fetch(`${controller.server.url}/healthz`, { headers: { Connection: 'close' } });
      expect(await health.text()).toBe('ok\n');
    }
    // Without the pin the certificate is just self-signed: Node's own fetch refuses it.
    await expect(fetch(`${controller.server.url}/healthz`)).rejects.toThrow();
  });

  it('an agent that meets another certificate stops at once, having sent nothing: the bootstrap token stays unused', async () => {
    const { dir, controller, bootstrap, refused, hellos } = await tlsController();
    const impostor = await impostorFingerprint();
    const connection = agent(dir, controller.server.wsUrl, bootstrap, impostor.fingerprint);
    const error = await connection.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PlexliftError);
    expect((error as PlexliftError).code).toBe('AUTH_REFUSED');
    expect((error as PlexliftError).message).toMatch(/not the pinned/);
    // Time for a hello that must never come.
    await sleep(200);
    expect(hellos()).toBe(0);
    expect(refused).toEqual([]);
    // The token never reached the server: it still works once.
    expect(controller.tokens.check(bootstrap, ['bootstrap']).ok).toBe(true);
  });

  it('the data plane refuses a server with another certificate before any request (and its token) is written', async () => {
    const impostor = await impostorFingerprint();
    const seen: string[] = [];
    const server = createServer({ cert: impostor.cert, key: impostor.key }, (req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    const { certificate } = await tlsController();
    const pin = new PinnedTls(certificate.fingerprint);
    onTestFinished(() => pin.close());
    const download = downloadArchive({ baseUrl: `https://127.0.0.1:${port}`, transferId: 'x', token: 'secret-transfer-token', fetch: pin.fetch });
    await expect(download.toArray()).rejects.toMatchObject({ code: 'AUTH_REFUSED' });
    expect(seen).toEqual([]);
    // The same pin against the right key works (control: the refusal is the pin, not the server).
    const right = new PinnedTls(impostor.fingerprint);
    onTestFinished(() => right.close());
    expect((await right.fetch(`https://127.0.0.1:${port}/ok`, {})).status).toBe(200);
    expect(seen).toEqual(['GET /ok ']);
  });

  it('the typed client reaches an https daemon by the fingerprint alone', async () => {
    const { certificate, controller } = await tlsController();
    const client = createControllerClient({ url: controller.server.url, token: ADMIN, fingerprint: certificate.fingerprint });
    onTestFinished(() => client.close());
    expect(await client.jobs.list.query()).toHaveLength(1);
    const wrong = createControllerClient({ url: controller.server.url, token: ADMIN, fingerprint: (await impostorFingerprint()).fingerprint });
    onTestFinished(() => wrong.close());
    await expect(wrong.jobs.list.query()).rejects.toThrow(/fetch failed|not the pinned/);
  });

  it('fingerprints are taken with or without colons and a sha256 prefix; anything else is named as wrong', async () => {
    const { certificate, config } = await tlsController();
    const bare = certificate.fingerprint.replace(/:/g, '').toLowerCase();
    expect(normalizeFingerprint(bare)).toBe(certificate.fingerprint);
    expect(normalizeFingerprint(`sha256/${bare}`)).toBe(certificate.fingerprint);
    expect(() => normalizeFingerprint('AB:CD', '--fingerprint')).toThrow(/--fingerprint: "AB:CD" is not a SHA-256 certificate fingerprint/);
    // A certificate file that is not one: the error names the field and the file.
    writeFileSync(join(config.server.stateDir, 'broken.pem'), 'not a certificate');
    const own = parseConfig(
      {
        server: {
          stateDir: config.server.stateDir,
          tls: { certFile: join(config.server.stateDir, 'broken.pem'), keyFile: join(config.server.stateDir, 'tls', 'key.pem') },
        },
      },
      'test',
    );
    await expect(ensureCertificate(own)).rejects.toThrow(/server\.tls\.certFile: .*broken\.pem is not a PEM certificate/);
    expect(() => parseConfig({ server: { tls: { certFile: '/etc/cert.pem' } } }, 'test')).toThrow(/server\.tls: certFile and keyFile go together/);
  });
});
