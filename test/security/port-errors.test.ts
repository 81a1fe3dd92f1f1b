import { describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { once } from 'node:events';
import { ADMIN_TOKEN, startPortController } from './port-controller.js';

/** What a stack trace or a server path looks like in an answer. */
const LEAK = /"stack"|\.ts:\d+|\.js:\d+|node_modules|\/work\/|at [\w.]+ \(/;

describe('no stack traces on the wire (issue 16 item 18)', () => {
  it('answers unauthenticated callers, over HTTP and the WebSocket, without a stack or a server path', async () => {
    const { controller } = await startPortController();
    for (const path of ['/trpc/jobs.list', '/trpc/agent.job', '/trpc/nothing.here']) {
      const body = await (await fetch(`${controller.server.url}${path}`)).text();
      expect(body, path).toMatch(/"message"/);
      expect(body, path).not.toMatch(LEAK);
    }
  });

  it('answers an agent over its WebSocket without one', async () => {
    const { controller, bootstrap } = await startPortController();
    const ws = new WebSocket(`${controller.server.wsUrl}/?connectionParams=1`);
    const messages: string[] = [];
    ws.on('message', (data) => messages.push((data as Buffer).toString()));
    await once(ws, 'open');
    ws.send(JSON.stringify({ method: 'connectionParams', data: { token: bootstrap } }));
    // Before hello: refused, by an error thrown in the controller's code.
    ws.send(JSON.stringify({ id: 1, method: 'query', params: { path: 'agent.job', input: null } }));
    ws.send(JSON.stringify({ id: 2, method: 'mutation', params: { path: 'agent.report', input: { key: 1 } } }));
    await vi.waitFor(() => expect(messages).toHaveLength(2));
    expect(messages.join('\n')).toMatch(/may only say hello/);
    expect(messages.join('\n')).not.toMatch(LEAK);
    ws.close();
  });

  it('answers the admin without one either', async () => {
    const { controller } = await startPortController();
    const headers = { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' };
    // A controller without job control: a PRECONDITION_FAILED thrown deep in a procedure.
    const run = await (await fetch(`${controller.server.url}/trpc/jobs.reap`, { method: 'POST', headers, body: '{}' })).text();
    expect(run).toMatch(/does not reap orphans/);
    expect(run).not.toMatch(LEAK);
    const bad = await (await fetch(`${controller.server.url}/trpc/jobs.get?input=${encodeURIComponent('{"jobId":5}')}`, { headers })).text();
    expect(bad).toMatch(/BAD_REQUEST/);
    expect(bad).not.toMatch(LEAK);
  });
});
