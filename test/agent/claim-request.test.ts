import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { AgentEvent } from '@plexlift/shared/protocol';
import { HomeConnection } from '../../packages/agent/src/home/connection.js';
import { Journal } from '../../packages/agent/src/home/journal.js';
import { startAgentHome } from '../utils/agent-home.js';
import { createTempDir } from '../utils/temp-dir.js';

const progress = (i: number): AgentEvent => ({ type: 'phase:progress', phase: 'restore', percent: i, message: `item ${i}` });

describe("the agent's claim request (issue 16 item 4)", () => {
  it('reaches home only after every journaled event, so home sees the plex-start that asks', async () => {
    const home = await startAgentHome({ tokens: ['bootstrap-token'], claimToken: 'claim-abc' });
    onTestFinished(() => home.close());
    const journal = new Journal(join(createTempDir(), 'journal.db'), 'job-1');
    const connection = new HomeConnection({
      url: home.url,
      jobId: 'job-1',
      agentVersion: '0.1.0',
      token: () => 'bootstrap-token',
      journal,
      onCommand: () => undefined,
      retryDelayMs: () => 50,
    });
    onTestFinished(async () => {
      await connection.close();
      journal.close();
    });
    await connection.start();
    // Reports go one at a time: a claim sent alongside would overtake most of them.
    for (let i = 0; i < 20; i++) connection.report(progress(i));
    connection.report({ type: 'phase:start', phase: 'plex-start' });
    await expect(connection.claim()).resolves.toEqual({ claimToken: 'claim-abc' });
    expect(home.claimAsks).toEqual([21]);
    expect(home.events.at(-1)).toEqual({ type: 'phase:start', phase: 'plex-start' });
  });
});
