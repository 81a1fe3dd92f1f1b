import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createControllerClient } from '../../packages/controller/src/client.js';
import { startController, type Controller } from '../../packages/controller/src/controller.js';
import { runCli } from '../utils/run-cli.js';

const ADMIN = 'admin-secret-dashboard-sessions-0123456789';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

interface Listed {
  handle: string;
  role: string;
  signedInAt: string;
  expiresAt: string;
  browser: string;
}

describe('plexlift dashboard sessions and revoke: the admin sees who is signed in and signs a session out', () => {
  let controller: Controller;
  let env: NodeJS.ProcessEnv;
  const dir = mkdtempSync(join(tmpdir(), 'plexlift-dashboard-sessions-'));

  beforeAll(async () => {
    controller = await startController({
      stateDir: join(dir, 'state'),
      adminToken: ADMIN,
      host: '127.0.0.1',
      agentJob: () => Promise.reject(new Error('no agent in this test')),
    });
    env = { PLEXLIFT_URL: controller.server.url, PLEXLIFT_TOKEN: ADMIN };
  });
  afterAll(async () => {
    await controller?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A browser's sign-in through a one-time link: its session cookie (`name=value`). */
  async function signIn(role: 'admin' | 'viewer'): Promise<string> {
    const admin = createControllerClient({ url: controller.server.url, token: ADMIN });
    const { path } = await admin.dashboard.signInLink.mutate({ role });
    await admin.close();
    const { port, host } = new URL(controller.server.url);
    const setCookie = await new Promise<string>((resolve, reject) => {
      const request = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/signin',
          method: 'POST',
          headers: { host, origin: controller.server.url, 'user-agent': FIREFOX, 'content-type': 'application/x-www-form-urlencoded' },
        },
        (answer) => {
          answer.resume();
          resolve(answer.headers['set-cookie']?.[0] ?? '');
        },
      );
      request.on('error', reject);
      request.end(`code=${path.split('#')[1]}`);
    });
    return setCookie.split(';')[0]!;
  }

  /** A dashboard socket of that cookie, open, and the code it is closed with later. */
  async function openSocket(cookie: string): Promise<{ closed: Promise<number> }> {
    const socket = new WebSocket(controller.server.wsUrl, { headers: { cookie, origin: controller.server.url } });
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    await new Promise((resolve) => socket.once('open', resolve));
    return { closed };
  }

  const listSessions = async () => {
    const admin = createControllerClient({ url: controller.server.url, token: ADMIN });
    try {
      return await admin.dashboard.sessions.query();
    } finally {
      await admin.close();
    }
  };

  it('lists each session by a handle (never its cookie), revokes one by it (its socket closes), a wrong one changes nothing, then --all', async () => {
    const full = await signIn('admin');
    const readOnly = await signIn('viewer');
    const listed = JSON.parse((await runCli(['dashboard', 'sessions', '--json'], { env })).stdout) as Listed[];
    expect(listed).toEqual([
      {
        handle: expect.stringMatching(/^[0-9a-f]{12}$/),
        role: 'admin',
        signedInAt: expect.any(String),
        expiresAt: expect.any(String),
        browser: 'Firefox 128 on Linux',
      },
      {
        handle: expect.stringMatching(/^[0-9a-f]{12}$/),
        role: 'viewer',
        signedInAt: expect.any(String),
        expiresAt: expect.any(String),
        browser: 'Firefox 128 on Linux',
      },
    ]);
    const table = await runCli(['dashboard', 'sessions'], { env });
    expect(table.stdout).toMatch(
      new RegExp(`^handle +role +signed in +ends in +browser\\n${listed[0]!.handle} +full +0 min ago +12 h +Firefox 128 on Linux\\n`),
    );
    for (const cookie of [full, readOnly]) expect(table.stdout + JSON.stringify(listed)).not.toContain(cookie.split('=')[1]);

    // A wrong handle is named, exit 2, and every session stays.
    const wrong = await runCli(['dashboard', 'revoke', 'feedfacecafe'], { env });
    expect(wrong).toMatchObject({ status: 2, stdout: '' });
    expect(wrong.stderr).toContain('no dashboard session has the handle "feedfacecafe" (plexlift dashboard sessions lists them); nothing was revoked');
    // Neither a handle nor --all: a usage error before anything is asked.
    expect(await runCli(['dashboard', 'revoke'], { env })).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('name one session by its handle (plexlift dashboard sessions lists them), or --all'),
    });
    expect(await listSessions()).toHaveLength(2);

    const { closed: fullClosed } = await openSocket(full);
    expect(await runCli(['dashboard', 'revoke', listed[0]!.handle], { env })).toMatchObject({ status: 0, stdout: `signed out session ${listed[0]!.handle}\n` });
    expect(await fullClosed).toBe(4401);
    expect((await listSessions()).map((s) => s.handle)).toEqual([listed[1]!.handle]);

    const { closed: readOnlyClosed } = await openSocket(readOnly);
    expect(await runCli(['dashboard', 'revoke', '--all', '--json'], { env })).toMatchObject({ status: 0, stdout: '{\n  "revoked": 1\n}\n' });
    expect(await readOnlyClosed).toBe(4401);
    expect(await listSessions()).toEqual([]);
  });

  it('a read-only session can neither list nor revoke (a full one may: it holds the admin rights)', async () => {
    const cookie = await signIn('viewer');
    const answers = await new Promise<unknown[]>((resolve, reject) => {
      const socket = new WebSocket(controller.server.wsUrl, { headers: { cookie, origin: controller.server.url } });
      const got: unknown[] = [];
      socket.on('open', () => {
        socket.send(JSON.stringify({ id: 1, method: 'query', params: { path: 'dashboard.sessions', input: {} } }));
        socket.send(JSON.stringify({ id: 2, method: 'mutation', params: { path: 'dashboard.revoke', input: { all: true } } }));
      });
      socket.on('message', (data: Buffer) => {
        const message = JSON.parse(data.toString()) as { id?: number };
        if (typeof message.id === 'number') got.push(message);
        if (got.length === 2) {
          socket.close();
          resolve(got);
        }
      });
      socket.on('error', reject);
      socket.on('close', (code) => got.length < 2 && reject(new Error(`closed ${code} before the answers`)));
    });
    expect(answers).toEqual([
      expect.objectContaining({ error: expect.objectContaining({ data: expect.objectContaining({ code: 'UNAUTHORIZED' }) }) }),
      expect.objectContaining({ error: expect.objectContaining({ data: expect.objectContaining({ code: 'UNAUTHORIZED' }) }) }),
    ]);
    expect(await listSessions()).toHaveLength(1);
  });
});
