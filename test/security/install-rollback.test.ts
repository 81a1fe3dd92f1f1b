import { lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BLOBS_DB_NAME, DATABASES_DIR, MAIN_DB_NAME } from '@plexlift/shared/plex-db';
import { restoreBackup, type Backup } from '../../packages/controller/src/install/backups.js';
import { createTempDir } from '../utils/temp-dir.js';

// Issue 16, item 24: `plexlift rollback` once failed with EISDIR after it had deleted the library DB.
const MAIN = join(DATABASES_DIR, MAIN_DB_NAME);
const BLOBS = join(DATABASES_DIR, BLOBS_DB_NAME);

function backupOf(files: Record<string, string>): Backup {
  const dir = createTempDir('backup-');
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(dir, 'files', rel, '..'), { recursive: true });
    writeFileSync(join(dir, 'files', rel), content);
  }
  const manifest = {
    version: 1 as const,
    jobId: 'job-0001',
    createdAt: '',
    databases: [MAIN, BLOBS],
    replaced: [],
    created: [],
    createdDirs: [],
    owner: { uid: 0, gid: 0 },
  };
  return { dir, manifest };
}

function homeWithBlobsFolder(): string {
  const pms = createTempDir('pms-');
  mkdirSync(join(pms, BLOBS), { recursive: true });
  writeFileSync(join(pms, BLOBS, 'x'), 'what a bad archive put there');
  writeFileSync(join(pms, MAIN), 'the new main DB');
  return pms;
}

describe('a rollback puts back whatever type of entry was there', () => {
  it('a folder where the backup has the blobs DB: replaced by the file', () => {
    const pms = homeWithBlobsFolder();
    restoreBackup(pms, backupOf({ [MAIN]: 'old main', [BLOBS]: 'old blobs' }));
    expect(lstatSync(join(pms, BLOBS)).isFile()).toBe(true);
    expect(readFileSync(join(pms, BLOBS), 'utf8')).toBe('old blobs');
    expect(readFileSync(join(pms, MAIN), 'utf8')).toBe('old main');
  });

  it('an incomplete backup is refused, by name, before anything at home is removed', () => {
    const pms = homeWithBlobsFolder();
    expect(() => restoreBackup(pms, backupOf({ [MAIN]: 'old main' }))).toThrow(
      /the backup .* is incomplete: files\/Plug-in Support\/Databases\/com\.plexapp\.plugins\.library\.blobs\.db is missing or not a file; nothing was restored/,
    );
    expect(readFileSync(join(pms, MAIN), 'utf8')).toBe('the new main DB');
  });
});
