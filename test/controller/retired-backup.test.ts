import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findJobBackup, listBackups, markRollingBack, retireJobBackup } from '../../packages/controller/src/install/backups.js';
import { createTempDir } from '../utils/temp-dir.js';

describe("another attempt at a job's install", () => {
  it("takes the earlier attempt's backup (and its rollback mark) out of the job's name, keeping it as a backup of home", () => {
    const root = createTempDir('backups-');
    const dir = join(root, '2026-12-04T03-00-00-000Z-job-1');
    mkdirSync(join(dir, 'files'), { recursive: true });
    const manifest = { version: 1, jobId: 'job-1', createdAt: '2026-12-04T03:00:00.000Z', databases: [], replaced: [], created: [], createdDirs: [] };
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    const earlier = findJobBackup(root, 'job-1')!;
    markRollingBack(earlier, { code: 'PLEX_NOT_READY', message: 'Plex did not come up' });

    retireJobBackup(root, 'job-1');
    // A resume of the new attempt finds no backup of its own, so it never "finishes" the old rollback over home.
    expect(findJobBackup(root, 'job-1')).toBeUndefined();
    expect(listBackups(root)).toEqual([expect.objectContaining({ dir, manifest: expect.objectContaining({ jobId: 'job-1 (an earlier attempt)' }) })]);
  });
});
