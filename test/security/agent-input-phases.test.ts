import { describe, expect, it } from 'vitest';
import type { AgentEvent } from '@plexlift/shared/protocol';
import { agentClient, JOB_ID, startPortController } from './port-controller.js';

describe("an agent cannot write the controller's phases (issue 16 item 5)", () => {
  it('refuses provision, teardown and install events from an agent, naming the phase, and stores nothing of them', async () => {
    const { controller } = await startPortController();
    const { client } = agentClient(controller.server.wsUrl, controller.tokens.issue(JOB_ID, 'session'));
    const forged: AgentEvent[] = [
      { type: 'phase:complete', phase: 'teardown', summary: { kept: false } },
      { type: 'phase:start', phase: 'install' },
      { type: 'phase:fail', phase: 'provision', code: 'X', message: 'forged' },
      { type: 'phase:progress', phase: 'teardown', percent: 50 },
    ];
    for (const [i, event] of forged.entries()) {
      await expect(client.agent.report.mutate({ key: `${JOB_ID}:${i}`, event }), event.type).rejects.toMatchObject({
        data: { code: 'BAD_REQUEST' },
        message: expect.stringContaining(`event.phase: "${'phase' in event ? event.phase : ''}" is run by the controller`),
      });
    }
    expect(controller.jobs.events(JOB_ID)).toEqual([]);
    expect(controller.jobs.phases(JOB_ID)).toEqual([]);

    // Its own phases are taken as before.
    await client.agent.report.mutate({ key: `${JOB_ID}:9`, event: { type: 'phase:complete', phase: 'upload', summary: {} } });
    expect(controller.jobs.phases(JOB_ID)).toMatchObject([{ phase: 'upload', state: 'done' }]);
  });
});
