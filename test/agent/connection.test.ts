import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import WebSocket from 'ws';
import { PROTOCOL_VERSION, type AgentCommand, type AgentEvent, type AgentRootRouter } from '@plexlift/shared/protocol';
import { HomeConnection } from '../../packages/agent/src/home/connection.js';
import { Journal } from '../../packages/agent/src/home/journal.js';
import { startAgentHome } from '../utils/agent-home.js';
import { createTempDir } from '../utils/temp-dir.js';

function connect(url: string, options: { token?: string; dir?: string } = {}) {
  const dir = options.dir ?? createTempDir();
  const journal = new Journal(join(dir, 'journal.db'), 'job-1');
  const commands: AgentCommand[] = [];
  const connection = new HomeConnection({
    url,
    jobId: 'job-1',
    agentVersion: '0.1.0',
    token: () => options.token ?? 'bootstrap-token',
    journal,
    onCommand: (command) => commands.push(command),
    retryDelayMs: () => 50,
    keepAlive: { intervalMs: 1_000, pongTimeoutMs: 500 },
  });
  onTestFinished(async () => {
    await connection.close();
    journal.close();
  });
  return { connection, journal, commands, dir };
}

const PATIENCE = { timeout: 10_000, interval: 10 };

const progress = (i: number): AgentEvent => ({ type: 'phase:progress', phase: 'scan', percent: i % 101, message: `item ${i}` });

describe('the agent connection home', () => {
  it('says hello, receives commands and delivers reports in order', async () => {
    const home = await startAgentHome({ tokens: ['bootstrap-token'] });
    onTestFinished(() => home.close());
    home.pushCommand({ type: 'run', jobId: 'job-1' });
    const { connection, commands } = connect(home.url);
    await connection.start();
    connection.report({ type: 'phase:start', phase: 'mount' });
    connection.report({ type: 'phase:complete', phase: 'mount', summary: { files: 3 } });
    await connection.drained();
    expect(home.events).toEqual([
      { type: 'phase:start', phase: 'mount' },
      { type: 'phase:complete', phase: 'mount', summary: { files: 3 } },
    ]);
    await vi.waitFor(() => expect(commands, 'the command home queued').toEqual([{ type: 'run', jobId: 'job-1' }]), PATIENCE);
  });

  it('loses and doubles nothing across repeated network cuts in the middle of a phase', async () => {
    const home = await startAgentHome({ tokens: ['bootstrap-token'] });
    onTestFinished(() => home.close());
    const { connection } = connect(home.url);
    await connection.start();
    for (let i = 0; i < 300; i++) {
      connection.report(progress(i));
      if (i % 50 === 25) home.cutConnections();
      // Time passes between bursts, so reports go out over each connection and the cuts land mid-stream.
      if (i % 10 === 0) await sleep(5);
    }
    await connection.drained();
    expect(home.connections).toBeGreaterThanOrEqual(4); // the cuts really happened
    expect(home.events).toHaveLength(300);
    expect(home.events).toEqual(Array.from({ length: 300 }, (_, i) => progress(i)));
  });

  it('keeps working while home is down, and delivers everything once it is back', async () => {
    const home = await startAgentHome({ tokens: ['bootstrap-token'] });
    onTestFinished(() => home.close());
    const { connection, journal } = connect(home.url);
    await connection.start();
    await home.stop();
    for (let i = 0; i < 50; i++) connection.report(progress(i));
    // Time for several reconnect attempts (every 50 ms) to fail: the reports stay pending meanwhile.
    await sleep(300);
    expect(journal.pendingCount()).toBe(50);
    await home.start();
    await connection.drained();
    expect(home.events).toEqual(Array.from({ length: 50 }, (_, i) => progress(i)));
  });

  it('resumes its command subscription from the last command it saw, also after a restart', async () => {
    const home = await startAgentHome({ tokens: ['bootstrap-token'] });
    onTestFinished(() => home.close());
    const first = connect(home.url);
    await first.connection.start();
    home.pushCommand({ type: 'run', jobId: 'job-1' });
    await vi.waitFor(
      () =>
        expect(
          first.commands.map((c) => c.type),
          'the first command',
        ).toEqual(['run']),
      PATIENCE,
    );
    home.cutConnections();
    home.pushCommand({ type: 'pause', jobId: 'job-1' });
    await vi.waitFor(
      () =>
        expect(
          first.commands.map((c) => c.type),
          'the command pushed across the cut, once',
        ).toEqual(['run', 'pause']),
      PATIENCE,
    );
    await first.connection.close();
    first.journal.close();

    home.pushCommand({ type: 'abort', jobId: 'job-1', reason: 'user' });
    const second = connect(home.url, { dir: first.dir });
    await second.connection.start();
    await vi.waitFor(() => expect(second.commands, 'the command pushed while it was down').toHaveLength(1), PATIENCE);
    // Time for a replay of the commands it already saw to arrive, if it were to.
    await sleep(100);
    expect(second.commands).toEqual([{ type: 'abort', jobId: 'job-1', reason: 'user' }]);
  });

  it('waits for a home out of reach until it is told to stop (SIGTERM, a teardown), then stops at once', async () => {
    const home = await startAgentHome({ tokens: ['bootstrap-token'] });
    onTestFinished(() => home.close());
    await home.stop();
    const { connection } = connect(home.url);
    const stop = new AbortController();
    const starting = connection.start(stop.signal);
    await sleep(300); // several reconnect attempts meanwhile
    const asked = Date.now();
    stop.abort(new Error('stopped by SIGTERM'));
    await expect(starting).rejects.toThrow('stopped by SIGTERM');
    expect(Date.now() - asked).toBeLessThan(1_000);
  });

  it('stops at once when its token is refused', async () => {
    const home = await startAgentHome({ tokens: ['bootstrap-token'] });
    onTestFinished(() => home.close());
    const { connection } = connect(home.url, { token: 'stolen-or-expired' });
    const started = Date.now();
    await expect(connection.start()).rejects.toMatchObject({ code: 'AUTH_REFUSED', exitCode: 7 });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses another protocol version with a message for both sides', async () => {
    const home = await startAgentHome({ tokens: ['bootstrap-token'] });
    onTestFinished(() => home.close());
    const ws = createWSClient({
      url: home.url,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      connectionParams: { token: 'bootstrap-token' },
    });
    onTestFinished(() => ws.close());
    const client = createTRPCClient<AgentRootRouter>({ links: [wsLink({ client: ws })] });
    await expect(client.agent.hello.mutate({ protocolVersion: 99, agentVersion: '9.0.0', jobId: 'job-1' })).rejects.toThrow(
      `protocol version mismatch: the agent speaks 99, the controller ${PROTOCOL_VERSION}; update the one that is behind`,
    );
    // An agent of protocol 1 reads its claim token from agent.job, where there is none any more:
    // it would start Plex unclaimed, so it is refused at hello, and says why.
    await expect(client.agent.hello.mutate({ protocolVersion: 1, agentVersion: '0.1.0', jobId: 'job-1' })).rejects.toMatchObject({
      data: { code: 'PRECONDITION_FAILED' },
      message: `protocol version mismatch: the agent speaks 1, the controller ${PROTOCOL_VERSION}; update the one that is behind`,
    });
  });
});
