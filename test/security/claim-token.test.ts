import { describe, expect, it, onTestFinished } from 'vitest';
import { parseConfig } from '@plexlift/shared';
import { PROTOCOL_VERSION, type AgentEvent } from '@plexlift/shared/protocol';
import { AgentJobs } from '../../packages/controller/src/jobs/agent-job.js';
import { PLEX_START_CLAIM_LIMIT } from '../../packages/controller/src/jobs/plex-claims.js';
import { startPlexTvSim } from '../plex-tv-sim/plex-tv-sim.js';
import { agentClient, JOB_ID, startPortController } from './port-controller.js';

const OWNER = 'owner-account-token';

/**
 * A real controller whose agent calls go to the real `AgentJobs` (the daemon's), minting claims
 * with the owner's account at a plex.tv double that counts them; and an agent's session socket.
 */
async function setup() {
  const tv = await startPlexTvSim({ accountToken: OWNER });
  onTestFinished(() => tv.close());
  const config = parseConfig(
    { home: { plexDataDir: '/nonexistent/pms', plexToken: OWNER, plexTvUrl: tv.url, control: { type: 'systemd', unit: 'plexmediaserver.service' } } },
    'test',
  );
  // The controller's calls reach the AgentJobs made just after it (it needs the controller's stores).
  const late: { agentJobs?: AgentJobs } = {};
  const { controller } = await startPortController({
    agentJob: (jobId) => late.agentJobs!.agentJob(jobId),
    agentClaim: (jobId) => late.agentJobs!.agentClaim(jobId),
  });
  late.agentJobs = new AgentJobs({
    config: () => config,
    jobs: controller.jobs,
    tokens: controller.tokens,
    controllerUrl: () => controller.server.url,
    controllerTls: undefined,
  });
  const { client } = agentClient(controller.server.wsUrl, controller.tokens.issue(JOB_ID, 'session'));
  await client.agent.hello.mutate({ protocolVersion: PROTOCOL_VERSION, agentVersion: '0.1.0', jobId: JOB_ID });
  let seq = 0;
  const report = (event: AgentEvent) => client.agent.report.mutate({ key: `${JOB_ID}:${++seq}`, event });
  return { tv, controller, client, report };
}

describe('the plex.tv claim token (issue 16 item 4)', () => {
  it('agent.job mints no claim, however often it is asked, and hands none out', async () => {
    const { tv, client } = await setup();
    for (let i = 0; i < 5; i++) {
      const job = await client.agent.job.query();
      expect(job.secrets).not.toHaveProperty('claimToken');
    }
    expect(tv.mintedClaims).toEqual([]);
  });

  it('agent.claim mints once per plex-start attempt, is refused before it and once it completed, and never reaches the events', async () => {
    const { tv, controller, client, report } = await setup();
    // Not while another phase runs: plex-start has not begun.
    await report({ type: 'phase:start', phase: 'preflight' });
    await expect(client.agent.claim.mutate()).rejects.toMatchObject({
      data: { code: 'PRECONDITION_FAILED' },
      message: expect.stringMatching(/only while Plex starts, and plex-start has not begun/),
    });
    expect(tv.mintedClaims).toEqual([]);

    await report({ type: 'phase:start', phase: 'plex-start' });
    const first = await client.agent.claim.mutate();
    expect(first.claimToken).toMatch(/^claim-/);
    // Asked again in the same attempt (a cut call retried): the same claim, nothing minted.
    const again = await Promise.all([client.agent.claim.mutate(), client.agent.claim.mutate()]);
    expect(again).toEqual([first, first]);
    expect(tv.mintedClaims).toEqual([first.claimToken]);

    // plex-start failed and starts again: that attempt gets its own claim, once.
    await report({ type: 'phase:fail', phase: 'plex-start', code: 'PLEX_START_FAILED', message: 'Plex exited' });
    await report({ type: 'phase:start', phase: 'plex-start' });
    const second = await client.agent.claim.mutate();
    expect(second.claimToken).not.toBe(first.claimToken);
    await client.agent.claim.mutate();
    expect(tv.mintedClaims).toEqual([first.claimToken, second.claimToken]);

    await report({ type: 'phase:complete', phase: 'plex-start', summary: {} });
    await expect(client.agent.claim.mutate()).rejects.toMatchObject({
      data: { code: 'PRECONDITION_FAILED' },
      message: expect.stringMatching(/plex-start completed/),
    });
    expect(tv.mintedClaims).toHaveLength(2);

    // Plex is claimed: a start of the phase again (a restarted agent starts its Plex, already claimed) gets no claim...
    await report({ type: 'phase:start', phase: 'plex-start' });
    await expect(client.agent.claim.mutate()).rejects.toMatchObject({ message: expect.stringMatching(/plex-start completed/) });
    // ...nor after reporting it failed since: a completed plex-start gives no claim, whatever starts follow.
    await report({ type: 'phase:fail', phase: 'plex-start', code: 'PLEX_START_FAILED', message: 'Plex exited' });
    await report({ type: 'phase:start', phase: 'plex-start' });
    await expect(client.agent.claim.mutate()).rejects.toMatchObject({
      data: { code: 'PRECONDITION_FAILED' },
      message: expect.stringMatching(/plex-start completed/),
    });
    expect(tv.mintedClaims).toHaveLength(2);
    const stored = JSON.stringify(controller.jobs.events(JOB_ID));
    for (const claim of tv.mintedClaims) expect(stored).not.toContain(claim);
  });

  it(`gives claims for the first ${PLEX_START_CLAIM_LIMIT} starts of plex-start only, however many the agent reports`, async () => {
    const { tv, client, report } = await setup();
    for (let start = 1; start <= PLEX_START_CLAIM_LIMIT; start++) {
      await report({ type: 'phase:start', phase: 'plex-start' });
      expect((await client.agent.claim.mutate()).claimToken).toMatch(/^claim-/);
      await report({ type: 'phase:fail', phase: 'plex-start', code: 'PLEX_START_FAILED', message: 'Plex exited' });
    }
    expect(tv.mintedClaims).toHaveLength(PLEX_START_CLAIM_LIMIT);
    // A further start, failed or not, gets nothing: neither a new claim nor the last one.
    await report({ type: 'phase:start', phase: 'plex-start' });
    await expect(client.agent.claim.mutate()).rejects.toMatchObject({
      data: { code: 'PRECONDITION_FAILED' },
      message: `plex-start was started ${PLEX_START_CLAIM_LIMIT + 1} times: claim tokens are given for its first ${PLEX_START_CLAIM_LIMIT} starts only`,
    });
    await report({ type: 'phase:start', phase: 'plex-start' });
    await expect(client.agent.claim.mutate()).rejects.toMatchObject({ data: { code: 'PRECONDITION_FAILED' } });
    expect(tv.mintedClaims).toHaveLength(PLEX_START_CLAIM_LIMIT);
  });

  it("a bootstrap token, another job's or a finished job's session cannot ask for a claim", async () => {
    const { tv, controller, report } = await setup();
    await report({ type: 'phase:start', phase: 'plex-start' });
    const bootstrap = agentClient(controller.server.wsUrl, controller.tokens.issue(JOB_ID, 'bootstrap', { ttlMs: 600_000 }));
    await expect(bootstrap.client.agent.claim.mutate()).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    const late = agentClient(controller.server.wsUrl, controller.tokens.issue(JOB_ID, 'session'));
    controller.jobs.transition(controller.jobs.get(JOB_ID)!, 'queued', 'failed');
    await expect(late.client.agent.claim.mutate()).rejects.toMatchObject({ data: { code: 'NOT_FOUND' } });
    expect(tv.mintedClaims).toEqual([]);
  });
});
