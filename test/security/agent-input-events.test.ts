import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { AGENT_EVENT_LIMITS, type AgentEvent } from '@plexlift/shared/protocol';
import { HomeConnection } from '../../packages/agent/src/home/connection.js';
import { Journal } from '../../packages/agent/src/home/journal.js';
import { agentClient, JOB_ID, startPortController } from './port-controller.js';

const log = (message: string): AgentEvent => ({ type: 'log', level: 'info', message });

describe("an agent's events are bounded (issue 16 item 14)", () => {
  it('refuses text longer than the schema allows, naming the field, and stores nothing', async () => {
    const { controller } = await startPortController();
    const { client } = agentClient(controller.server.wsUrl, controller.tokens.issue(JOB_ID, 'session'));
    await expect(client.agent.report.mutate({ key: `${JOB_ID}:1`, event: log('x'.repeat(600_000)) })).rejects.toMatchObject({
      data: { code: 'BAD_REQUEST' },
      message: expect.stringMatching(/"message"[\s\S]*4096/),
    });
    const summary = { list: Array.from({ length: 10_000 }, (_, i) => `entry ${i}`) };
    await expect(client.agent.report.mutate({ key: `${JOB_ID}:2`, event: { type: 'phase:complete', phase: 'scan', summary } })).rejects.toMatchObject({
      data: { code: 'BAD_REQUEST' },
      message: expect.stringContaining('phase summary'),
    });
    expect(controller.jobs.events(JOB_ID)).toEqual([]);
  });

  it("past a job's quota, its logs, progress and CPU samples are dropped (said once in the log) while its phase events are kept", async () => {
    const { controller } = await startPortController({ eventQuota: { events: 5, bytes: 10 * 1024 * 1024 } });
    const { client } = agentClient(controller.server.wsUrl, controller.tokens.issue(JOB_ID, 'session'));
    for (let i = 0; i < 8; i++) await client.agent.report.mutate({ key: `${JOB_ID}:${i}`, event: log(`line ${i}`) });
    await client.agent.report.mutate({ key: `${JOB_ID}:8`, event: { type: 'phase:start', phase: 'scan' } });
    await client.agent.report.mutate({ key: `${JOB_ID}:9`, event: { type: 'cpu:sample', percent: 3 } });
    const stored = controller.jobs.events(JOB_ID).map((e) => (e.event.type === 'log' ? e.event.message : e.event.type));
    expect(stored).toEqual([
      'line 0',
      'line 1',
      'line 2',
      'line 3',
      'line 4',
      'the agent sent more than 5 events or 10 MiB: its later logs, progress and CPU samples are not kept',
      'phase:start',
    ]);
    expect(controller.jobs.phases(JOB_ID)).toMatchObject([{ phase: 'scan', state: 'running' }]);
  });

  it('counts the bytes of its events too', async () => {
    const quota = { events: 1_000, bytes: 20_000 };
    const { controller } = await startPortController({ eventQuota: quota });
    const { client } = agentClient(controller.server.wsUrl, controller.tokens.issue(JOB_ID, 'session'));
    for (let i = 0; i < 10; i++) await client.agent.report.mutate({ key: `${JOB_ID}:${i}`, event: log('y'.repeat(4_000)) });
    expect(controller.jobs.agentEventUsage(JOB_ID).events).toBe(4);
    expect(controller.jobs.events(JOB_ID)).toHaveLength(5);
  });

  it("a real agent's over-long event is cut to fit rather than refused, and the events after it arrive", async () => {
    const { controller, bootstrap, dir } = await startPortController();
    const journal = new Journal(join(dir, 'agent.db'), JOB_ID);
    const connection = new HomeConnection({
      url: controller.server.wsUrl,
      jobId: JOB_ID,
      agentVersion: '0.1.0',
      token: () => bootstrap,
      journal,
      onCommand: () => undefined,
      retryDelayMs: () => 50,
    });
    onTestFinished(async () => {
      await connection.close();
      journal.close();
    });
    await connection.start();
    connection.report(log('z'.repeat(100_000)));
    connection.report({ type: 'phase:fail', phase: 'scan', code: 'C'.repeat(500), message: 'm' });
    connection.report(log('after'));
    await connection.drained();
    const events = controller.jobs.events(JOB_ID).map((e) => e.event);
    expect(events).toHaveLength(3);
    expect(events[0]).toMatchObject({ type: 'log', message: expect.stringMatching(/^z+…$/) });
    expect((events[0] as { message: string }).message).toHaveLength(AGENT_EVENT_LIMITS.messageChars);
    expect((events[1] as { code: string }).code).toHaveLength(AGENT_EVENT_LIMITS.codeChars);
    expect(events[2]).toEqual(log('after'));
  });
});
