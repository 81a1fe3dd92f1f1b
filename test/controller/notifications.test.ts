import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { parseConfig, PlexliftError } from '@plexlift/shared';
import { parseJobSpec } from '@plexlift/shared/protocol';
import { openControllerCore } from '../../packages/controller/src/controller.js';
import { JobJournal } from '../../packages/controller/src/jobs/job-journal.js';
import { createLogger } from '../../packages/controller/src/logger.js';
import { createNotifier } from '../../packages/controller/src/notify/notifier.js';
import { freePort } from '../utils/free-port.js';
import { startHttpReceiver, startSmtpReceiver } from '../utils/notify-receivers.js';
import { runCli } from '../utils/run-cli.js';
import { createTempDir } from '../utils/temp-dir.js';

const SECRETS = {
  plexToken: 'plex-owner-token-never-sent',
  hookToken: 'Bearer hook-secret-0123456789',
  ntfyToken: 'tk_ntfysecret0123456789abcdef',
  smtpPassword: 'smtp-password-never-in-a-message',
};

/** A webhook endpoint, an ntfy server and an SMTP server on loopback, and the notify section that names them. */
async function receivers() {
  const webhook = await startHttpReceiver();
  const ntfy = await startHttpReceiver();
  const smtp = await startSmtpReceiver('plexlift', SECRETS.smtpPassword);
  const notify = {
    webhook: { url: `${webhook.url}/hooks/plexlift`, headers: { Authorization: SECRETS.hookToken } },
    ntfy: { url: `${ntfy.url}/plexlift-home`, token: SECRETS.ntfyToken },
    // The test's SMTP server has no TLS: allowed on purpose (a LAN relay).
    email: {
      host: '127.0.0.1',
      port: smtp.port,
      insecure: true,
      user: 'plexlift',
      password: SECRETS.smtpPassword,
      from: 'plexlift@home.test',
      to: ['me@home.test'],
    },
  };
  /** Every message each channel got, as text (to look for secrets in). */
  const contents = () => [
    ...webhook.received.map((r) => r.body),
    ...ntfy.received.map((r) => `${String(r.headers.title)}\n${r.body}`),
    ...smtp.received.map((m) => m.data),
  ];
  return { webhook, ntfy, smtp, notify, contents };
}

function expectNoSecret(texts: string[]): void {
  for (const text of texts) for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret.replace('Bearer ', ''));
}

describe('notifications', () => {
  it('plexlift notify test: one message on each channel (webhook JSON, ntfy, e-mail), with no secret; config get masks them', async () => {
    const { webhook, ntfy, smtp, notify, contents } = await receivers();
    const file = join(createTempDir(), 'config.json');
    writeFileSync(
      file,
      JSON.stringify({ home: { plexDataDir: '/srv/plex', plexToken: SECRETS.plexToken, control: { type: 'docker', container: 'plex' } }, notify }),
    );
    const sent = await runCli(['notify', 'test', '--config', file]);
    expect(sent.status, sent.stderr).toBe(0);
    expect(sent.stdout).toMatch(/^webhook +sent$/m);
    expect(sent.stdout).toMatch(/^ntfy +sent$/m);
    expect(sent.stdout).toMatch(/^email +sent$/m);
    expect(webhook.received).toHaveLength(1);
    expect(webhook.received[0]).toMatchObject({ path: '/hooks/plexlift', headers: { 'content-type': 'application/json', authorization: SECRETS.hookToken } });
    expect(JSON.parse(webhook.received[0]!.body)).toEqual({
      event: 'test',
      title: 'plexlift: test notification',
      text: expect.stringContaining('plexlift notify test'),
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      details: {},
    });
    expect(ntfy.received).toHaveLength(1);
    expect(ntfy.received[0]).toMatchObject({ path: '/plexlift-home', headers: { authorization: `Bearer ${SECRETS.ntfyToken}`, priority: '3' } });
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]).toMatchObject({
      from: 'plexlift@home.test',
      to: ['me@home.test'],
      data: expect.stringContaining('Subject: plexlift: test notification'),
    });
    expectNoSecret(contents());

    const shown = await runCli(['config', 'get', 'notify', '--config', file]);
    for (const secret of Object.values(SECRETS)) expect(shown.stdout).not.toContain(secret);
    expect(JSON.parse(shown.stdout)).toMatchObject({ webhook: { url: '(set)', headers: '(set)' }, ntfy: { token: '(set)' }, email: { password: '(set)' } });

    // A channel that fails is named with what went wrong, never its URL; the exit status says so.
    writeFileSync(file, JSON.stringify({ notify: { ntfy: { url: `http://127.0.0.1:${await freePort()}/topic-secret-name` } } }));
    const failed = await runCli(['notify', 'test', '--config', file]);
    expect(failed.status).toBe(78);
    expect(failed.stdout).toMatch(/^ntfy +FAILED: ECONNREFUSED$/m);
    expect(failed.stdout + failed.stderr).not.toContain('topic-secret-name');
  });

  it("a job's end, failure and landing: exactly one message each on every channel, with no secret; events filters them", async () => {
    const { webhook, ntfy, smtp, notify, contents } = await receivers();
    const dir = createTempDir();
    const core = openControllerCore({ stateDir: join(dir, 'state') });
    const config = parseConfig({ notify: { ...notify, events: ['job:done', 'job:failed', 'job:landing'] } }, 'test');
    const notifier = createNotifier(
      config.notify,
      createLogger(() => undefined),
    );
    const journal = new JobJournal(
      core.jobs,
      core.bus,
      createLogger(() => undefined),
      notifier,
    );
    const job = (id: string) =>
      core.jobs.create({
        id,
        library: `/lib-${id}`,
        provider: 'scaleway',
        spec: parseJobSpec({ jobId: id, mode: 'delta', plex: { version: '1.43.2.10687-563d026ea' }, media: { mountPath: '/Media', remote: 's3:media' } }),
        options: { keep: false, noInstall: false },
      });

    let done = job('job-done');
    core.jobs.setResource(done.id, { hourlyPrice: 0.2 });
    for (const [from, to] of [
      ['queued', 'provisioning'],
      ['provisioning', 'running'],
      ['running', 'verified'],
      ['verified', 'installing'],
      ['installing', 'done'],
    ] as const)
      done = journal.move(done, from, to);
    journal.commandLand(job('job-landing').id, 'its budget ends in 20 min');
    const failing = journal.move(job('job-failed'), 'queued', 'provisioning');
    journal.end(failing.id, new PlexliftError('CLOUD_ERROR', 'Scaleway has no DEV1-S left in fr-par-1'));
    // Not in `events`: nothing is sent for a reaper deletion.
    notifier.notify({ event: 'reaper:deleted', title: 'x', text: 'x', details: {} });
    await notifier.idle();
    await vi.waitFor(() => expect(smtp.received).toHaveLength(3));

    const events = webhook.received.map((r) => JSON.parse(r.body) as { event: string; jobId: string; title: string; text: string });
    expect(events.map((e) => e.event).sort()).toEqual(['job:done', 'job:failed', 'job:landing']);
    expect(events.find((e) => e.event === 'job:failed')).toMatchObject({
      jobId: 'job-failed',
      title: 'plexlift: job job-failed failed',
      text: expect.stringContaining('CLOUD_ERROR: Scaleway has no DEV1-S left in fr-par-1'),
    });
    expect(events.find((e) => e.event === 'job:done')).toMatchObject({ jobId: 'job-done', text: expect.stringMatching(/ended done in \d+\.\d\d h/) });
    expect(ntfy.received.map((r) => r.headers.tags).sort()).toEqual(['job-done', 'job-failed', 'job-landing']);
    expect(smtp.received.map((m) => /^Subject: (.*)$/m.exec(m.data)?.[1]).sort()).toEqual([
      'plexlift: job job-done done',
      'plexlift: job job-failed failed',
      'plexlift: job job-landing is landing',
    ]);
    expectNoSecret(contents());
    core.db.close();
  });
});
