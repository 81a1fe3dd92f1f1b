import { describe, expect, it, vi } from 'vitest';
import { AUTH_REFUSED_CLOSE_CODE, PROTOCOL_VERSION, type AgentEvent } from '@plexlift/shared/protocol';
import { agentClient, JOB_ID, startPortController } from './port-controller.js';

const hello = { protocolVersion: PROTOCOL_VERSION, agentVersion: '0.1.0', jobId: JOB_ID };
const log: AgentEvent = { type: 'log', level: 'info', message: 'hi' };

describe("an agent token's scope (issue 16 item 4)", () => {
  it('a bootstrap token may only say hello: no job, secrets or reports before it is spent, then the same socket goes on as a session', async () => {
    const { controller, bootstrap } = await startPortController();
    const { client } = agentClient(controller.server.wsUrl, bootstrap);
    await expect(client.agent.job.query()).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' }, message: expect.stringMatching(/may only say hello/) });
    await expect(client.agent.report.mutate({ key: `${JOB_ID}:1`, event: log })).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    expect(controller.jobs.events(JOB_ID)).toEqual([]);
    expect(controller.tokens.check(bootstrap, ['bootstrap'])).toMatchObject({ ok: true });

    const answer = await client.agent.hello.mutate(hello);
    expect(answer.sessionToken).toMatch(/^plx_s_/);
    expect(controller.tokens.check(bootstrap, ['bootstrap'])).toEqual({ ok: false, reason: 'used' });
    await expect(client.agent.job.query()).resolves.toMatchObject({ transfers: { exportId: `${JOB_ID}-export` } });
    await expect(client.agent.report.mutate({ key: `${JOB_ID}:1`, event: log })).resolves.toEqual({ duplicate: false });
  });

  it('a socket opened with a bootstrap token stops working once another socket spent it', async () => {
    const { controller, bootstrap } = await startPortController();
    const first = agentClient(controller.server.wsUrl, bootstrap);
    const second = agentClient(controller.server.wsUrl, bootstrap);
    // Both sockets are open (and authenticated) before either spends the token.
    await expect(second.client.agent.job.query()).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    await first.client.agent.hello.mutate(hello);
    await expect(second.client.agent.hello.mutate(hello)).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    await expect(second.client.agent.job.query()).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    await expect(second.client.agent.report.mutate({ key: `${JOB_ID}:9`, event: log })).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    expect(controller.jobs.events(JOB_ID)).toEqual([]);
  });

  it("revoking a job's tokens closes its agent's open sockets (4401), and a session socket of a job that is over can no longer report", async () => {
    const { controller } = await startPortController();
    const session = controller.tokens.issue(JOB_ID, 'session');
    const agent = agentClient(controller.server.wsUrl, session);
    await agent.client.agent.report.mutate({ key: `${JOB_ID}:1`, event: log });
    const commands: unknown[] = [];
    const subscription = agent.client.agent.commands.subscribe({}, { onData: (data) => commands.push(data) });
    controller.tokens.revokeJob(JOB_ID);
    await vi.waitFor(() => expect(agent.closes).toContain(AUTH_REFUSED_CLOSE_CODE));
    subscription.unsubscribe();

    // The job is over, its session token not revoked (a crash between the two): each call checks the job.
    const other = controller.tokens.issue(JOB_ID, 'session');
    const late = agentClient(controller.server.wsUrl, other);
    await late.client.agent.report.mutate({ key: `${JOB_ID}:2`, event: log });
    const job = controller.jobs.get(JOB_ID)!;
    controller.jobs.transition(job, 'queued', 'failed');
    await expect(late.client.agent.report.mutate({ key: `${JOB_ID}:3`, event: log })).rejects.toMatchObject({ data: { code: 'NOT_FOUND' } });
    await expect(late.client.agent.job.query()).rejects.toMatchObject({ data: { code: 'NOT_FOUND' } });
    expect(controller.jobs.events(JOB_ID).map((e) => e.id)).toHaveLength(2);
  });
});
