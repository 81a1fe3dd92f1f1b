import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseJobSpec } from '@plexlift/shared/protocol';
import { openControllerCore } from '../../packages/controller/src/controller.js';
import { prepare, serve } from '../e2e/plexlift-fixture.js';

const spec = (jobId: string) =>
  parseJobSpec({ jobId, mode: 'delta', plex: { version: '1.43.2.10687-563d026ea' }, media: { mountPath: '/Media', remote: 's3:media' } });

describe('transfer folders do not outlive their use (issue 16 item 11)', () => {
  it(
    'the daemon sweeps at start-up what no job needs: orphans, a failed job’s snapshot and unverified upload; a failed job’s verified archive stays, with its snapshot (the base of the install’s merge)',
    { timeout: 60_000 },
    async () => {
      const { dir, configPath } = await prepare({ daemon: false });
      const staging = join(dir, 'state', 'transfers');
      const core = openControllerCore({ stateDir: join(dir, 'state') });
      // Two jobs that failed before this daemon started: one while uploading, one at its install (rolled back).
      for (const id of ['job-upload', 'job-install']) {
        const job = core.jobs.create({ id, library: 'home', provider: 'local', spec: spec(id), options: { keep: false, noInstall: false } });
        core.jobs.transition(job, 'queued', 'failed', { error: { code: 'UNEXPECTED', message: 'gone' } });
        await core.transfers.publish(`${id}-restore`, id, Readable.from([Buffer.from(`home snapshot of ${id}`)]), 1024);
        const upload = core.transfers.open(`${id}-export`, id, 'export');
        writeFileSync(join(upload.path, '0.chunk'), 'part of an archive');
      }
      core.transferStore.markVerified('job-install-export', { chunks: 1, bytes: 18, sha256: 'a'.repeat(64) });
      // A folder of a job the store forgot (pruned), left by a daemon that stopped before deleting it.
      mkdirSync(join(staging, 'job-pruned-export'));
      writeFileSync(join(staging, 'job-pruned-export', '0.chunk'), 'old');
      core.db.close();

      const daemon = await serve(configPath);

      expect(readdirSync(staging).sort()).toEqual(['job-install-export', 'job-install-restore']);
      expect(existsSync(join(staging, 'job-install-export', '0.chunk'))).toBe(true);
      for (const gone of ['job-pruned-export', 'job-upload-export', 'job-upload-restore'])
        expect(daemon.log()).toContain(`deleted transfer folder ${gone}: no job needs it`);
      await daemon.stop();
      const after = openControllerCore({ stateDir: join(dir, 'state') });
      expect(after.transferStore.get('job-upload-restore')).toMatchObject({ state: 'discarded', bytes: 'home snapshot of job-upload'.length });
      expect(after.transferStore.chunks('job-upload-restore')).toEqual([]);
      after.db.close();
    },
  );
});
