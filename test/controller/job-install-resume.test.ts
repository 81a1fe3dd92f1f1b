import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseConfig, type JobState } from '@plexlift/shared';
import { parseJobSpec } from '@plexlift/shared/protocol';
import { openControllerCore } from '../../packages/controller/src/controller.js';
import { listBackups } from '../../packages/controller/src/install/backups.js';
import { transferIds } from '../../packages/controller/src/jobs/agent-job.js';
import { installJob } from '../../packages/controller/src/jobs/job-install.js';
import { createLogger } from '../../packages/controller/src/logger.js';
import { JobJournal } from '../../packages/controller/src/jobs/job-journal.js';
import type { JobRecord, StateChanges } from '../../packages/controller/src/store/job-store.js';
import { cloudResult } from '../utils/cloud-result.js';
import { startHomePlex } from '../utils/home-plex-fixture.js';
import { readStatsOf } from '../utils/sqlite-files.js';
import { createTempDir } from '../utils/temp-dir.js';

const JOB_ID = 'job-0001';

/** The controller stopped right before it would have moved the job to `done`. */
const SILENT = createLogger(() => undefined);

class StoppedBeforeDone extends JobJournal {
  override move(job: JobRecord, from: JobState, to: JobState, changes?: StateChanges): JobRecord {
    if (to === 'done') throw new Error('the controller stopped here');
    return super.move(job, from, to, changes);
  }
}

/**
 * A home Plex, the daemon's real store, and a job whose cloud archive (two new films) is
 * verified at home as the agent's upload leaves it: one chunk file and its row.
 */
async function setup() {
  const home = await startHomePlex();
  const archive = await cloudResult(home, 2);
  const stateDir = createTempDir('state-');
  const config = parseConfig(
    {
      server: { stateDir },
      home: { plexDataDir: home.paths.pms, plexUrl: home.url, plexToken: 'home-token', control: home.controlConfig, startTimeoutSeconds: 10 },
    },
    'test',
  );
  const core = openControllerCore({ stateDir });
  onTestFinished(() => {
    core.db.close();
  });
  const spec = parseJobSpec({ jobId: JOB_ID, mode: 'delta', plex: { version: '1.43.2.10687-563d026ea' }, media: { mountPath: '/Media', remote: 's3:media' } });
  let job = core.jobs.create({ id: JOB_ID, library: 'home', provider: 'local', spec, options: { keep: false, noInstall: false } });
  for (const [from, to] of [
    ['queued', 'provisioning'],
    ['provisioning', 'running'],
    ['running', 'verified'],
  ] as const)
    job = core.jobs.transition(job, from, to)!;
  const exportId = transferIds(JOB_ID).export;
  const upload = core.transfers.open(exportId, JOB_ID, 'export');
  copyFileSync(archive, join(upload.path, '0.chunk'));
  const sha256 = createHash('sha256').update(readFileSync(archive)).digest('hex');
  const bytes = statSync(archive).size;
  core.transferStore.putChunk(exportId, { index: 0, sha256, bytes });
  core.transferStore.markVerified(exportId, { chunks: 1, bytes, sha256 });
  const context = (journal: JobJournal) => ({ config, journal, transfers: core.transfers, transferStore: core.transferStore });
  return { home, stateDir, core, exportId, upload, context };
}

describe('an install the controller stopped in, resumed', () => {
  it('keeps the archive until the job is done, so a stop just before can be resumed to done', { timeout: 60_000 }, async () => {
    const { home, stateDir, core, exportId, upload, context } = await setup();
    await expect(
      installJob(core.jobs.get(JOB_ID)!, core.transferStore.get(exportId)!, 0, context(new StoppedBeforeDone(core.jobs, core.bus, SILENT))),
    ).rejects.toThrow('the controller stopped here');
    expect(core.jobs.get(JOB_ID)?.state).toBe('installing');
    // What a restarted controller resumes the job with is still there.
    expect(core.transferStore.get(exportId)?.state).toBe('verified');
    expect(existsSync(join(upload.path, '0.chunk'))).toBe(true);

    await installJob(core.jobs.get(JOB_ID)!, core.transferStore.get(exportId)!, 0, context(new JobJournal(core.jobs, core.bus, SILENT)));
    expect(core.jobs.get(JOB_ID)).toMatchObject({ state: 'done', report: expect.any(Object) });
    expect(readStatsOf(home.paths.mainDb).library.sections.map((s) => [s.title, s.counts.movie])).toEqual([['Movies', 6]]);
    // Installed once (the resume only checked Plex), and the archive left the disk with the job done.
    expect(listBackups(join(stateDir, 'backups'))).toHaveLength(1);
    expect(core.transferStore.get(exportId)?.state).toBe('discarded');
    expect(existsSync(upload.path)).toBe(false);
  });

  it(
    'a completed install whose archive is already gone (an earlier version discarded it first) resumes to done without reading it',
    { timeout: 60_000 },
    async () => {
      const { home, stateDir, core, exportId, context } = await setup();
      await expect(
        installJob(core.jobs.get(JOB_ID)!, core.transferStore.get(exportId)!, 0, context(new StoppedBeforeDone(core.jobs, core.bus, SILENT))),
      ).rejects.toThrow('the controller stopped here');
      core.transfers.discard(exportId);

      await installJob(core.jobs.get(JOB_ID)!, core.transferStore.get(exportId)!, 0, context(new JobJournal(core.jobs, core.bus, SILENT)));
      expect(core.jobs.get(JOB_ID)?.state).toBe('done');
      expect(readStatsOf(home.paths.mainDb).library.sections.map((s) => [s.title, s.counts.movie])).toEqual([['Movies', 6]]);
      expect(listBackups(join(stateDir, 'backups'))).toHaveLength(1);
    },
  );
});
