import Database from 'better-sqlite3';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, constants, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { openStoreDatabase } from '../../packages/controller/src/store/schema.js';
import { freePort } from '../utils/free-port.js';
import { CLI_BIN } from '../utils/run-cli.js';
import { destroyPage } from '../utils/sqlite-files.js';
import { createTempDir } from '../utils/temp-dir.js';

/** A config for `plexlift serve` on loopback. */
function writeConfig(dir: string, port: number, tls = false): { configPath: string; stateDir: string } {
  const stateDir = join(dir, 'state');
  mkdirSync(stateDir, { recursive: true });
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify({ server: { port, host: '127.0.0.1', stateDir, tls: { enabled: tls } } }));
  return { configPath, stateDir };
}

/** `plexlift serve` as its own process, from the sources, its output collected. */
function spawnServe(configPath: string) {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CLI_BIN, 'serve', '--config', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return { child, log: () => log, exited };
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** GET /healthz over the daemon's self-signed TLS (what is checked here is that it answers). */
function healthz(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = httpsGet({ host: '127.0.0.1', port, path: '/healthz', rejectUnauthorized: false }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve(body));
    });
    request.on('error', reject);
  });
}

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  for (const start = Date.now(); !condition();) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// Issue 16, items 12 and 19: a daemon either starts whole or exits, saying why.
describe('plexlift serve start-up', () => {
  it('refuses a damaged job store: exits 3 naming the file, and never opens the port', async () => {
    const dir = createTempDir();
    const port = await freePort();
    const { configPath, stateDir } = writeConfig(dir, port);
    // A store with enough events to span many pages, then one of its pages destroyed (a bad disk).
    const storePath = join(stateDir, 'plexlift.db');
    const store = openStoreDatabase(storePath);
    store
      .prepare(
        `INSERT INTO jobs (id, library, state, provider, spec_json, options_json, created_at, updated_at, finished_at) VALUES ('job-1', 'lib', 'done', 'local', '{}', '{}', 1, 1, ?)`,
      )
      .run(Date.now());
    const insert = store.prepare(`INSERT INTO events (job_id, key, at, type, payload_json) VALUES ('job-1', ?, ?, 'log', ?)`);
    store.transaction(() => {
      for (let i = 0; i < 2000; i++) insert.run(`k${i}`, i, JSON.stringify({ type: 'log', level: 'info', message: `line ${i}`.padEnd(200, '.') }));
    })();
    store.pragma('wal_checkpoint(TRUNCATE)');
    store.close();
    destroyPage(storePath, 'events');
    new Database(storePath).close(); // still opens: only reading the damaged page finds it

    const serve = spawnServe(configPath);
    let portOpened = false;
    while (serve.child.exitCode === null && serve.child.signalCode === null) {
      if (await portAccepts(port)) portOpened = true;
      await Promise.race([serve.exited, new Promise((resolve) => setTimeout(resolve, 25))]);
      if (portOpened) break;
    }
    expect(portOpened, serve.log()).toBe(false);
    const [status] = await Promise.race([
      serve.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still running: ${serve.log()}`)), 30_000)),
    ]);
    expect(portOpened).toBe(false);
    expect(status).toBe(3);
    expect(serve.log()).toContain(storePath);
    expect(serve.log()).toMatch(/job store: .* is damaged/);
    expect(serve.log()).not.toMatch(/\n\s+at /); // one line, no stack
    expect(await portAccepts(port)).toBe(false);
  });

  it('a SIGHUP while it starts does not kill it: the reload is done once it is up', async () => {
    const dir = createTempDir();
    const port = await freePort();
    // TLS on, first start: the certificate is made while the daemon starts (asynchronous work, as
    // in real life), so a SIGHUP is handled, or not, before the daemon listens.
    const { configPath, stateDir } = writeConfig(dir, port, true);
    // Start-up held at a known point: the admin token is read from a FIFO, so the daemon waits
    // in ensureAdminToken until the test writes it (as a slow disk or a long certificate would).
    const tokenFifo = join(stateDir, 'admin-token');
    execFileSync('mkfifo', ['-m', '600', tokenFifo]);
    const serve = spawnServe(configPath);
    const running = () => serve.child.exitCode === null && serve.child.signalCode === null;
    let writer: number | undefined;
    await until(() => {
      try {
        writer = openSync(tokenFifo, constants.O_WRONLY | constants.O_NONBLOCK); // ENXIO until the daemon opens it
        return true;
      } catch {
        return !running();
      }
    }, 'the daemon to read its admin token');
    expect(writer).toBeDefined();
    serve.child.kill('SIGHUP');
    await new Promise((resolve) => setTimeout(resolve, 300));
    writeSync(writer!, 'plx_a_test-admin-token\n');
    closeSync(writer!);
    await until(() => serve.log().includes('plexlift listening') || !running(), 'the daemon');
    expect(serve.child.signalCode).toBeNull();
    expect(serve.child.exitCode).toBeNull();
    await until(() => serve.log().includes('config reloaded'), 'the held reload');
    expect(await healthz(port)).toBe('ok\n');

    // Once up, SIGHUP reloads as before and the daemon stays.
    const reloads = () => serve.log().split('config reloaded').length - 1;
    await new Promise((resolve) => setTimeout(resolve, 100));
    const before = reloads();
    serve.child.kill('SIGHUP');
    await until(() => reloads() === before + 1, 'the next reload');
    expect(await healthz(port)).toBe('ok\n');
    serve.child.kill('SIGTERM');
    expect((await serve.exited)[0]).toBe(0);
  });
});
