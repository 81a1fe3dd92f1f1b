import { basename, join } from 'node:path';
import { PlexliftError, type Config, type HomeConfig } from '@plexlift/shared';
import type { BackupView, RollbackOutcome } from '../jobs/job-control.js';
import { readOnlineToken } from '../plex-account.js';
import { listBackups, type Backup } from './backups.js';
import { rollbackToBackup, type InstallStep } from './home-install.js';
import { withHomeLock } from './home-lock.js';
import { assertNoInstall } from './install-pending.js';
import { createPlexControl } from './plex-control.js';

/**
 * `plexlift rollback` and the API's `home.rollback`: one way to choose a backup and put it back,
 * whether the CLI does it without the daemon or the daemon does it for the dashboard.
 */

/** The home part of the config, or a CONFIG_INVALID naming it. */
export function homeOf(config: Config): HomeConfig {
  if (!config.home) throw new PlexliftError('CONFIG_INVALID', 'home: missing; set home.plexDataDir and home.control');
  return config.home;
}

/** Where installs keep their backups: home.backups.dir, else `<stateDir>/backups`. */
export function backupsDirOf(config: Config): string {
  return homeOf(config).backups.dir ?? join(config.server.stateDir, 'backups');
}

/** The backups as the API lists them, newest first. */
export function backupViews(config: Config): BackupView[] {
  return listBackups(backupsDirOf(config)).map((backup) => ({
    name: basename(backup.dir),
    jobId: backup.manifest.jobId,
    createdAt: backup.manifest.createdAt,
    replaced: backup.manifest.replaced.length,
    added: backup.manifest.created.length,
  }));
}

/**
 * The backup to put back: the newest, or the one `name` names (its folder, or its folder's name).
 * Refused while a job installs or will (it would undo the rollback); `field` names the input.
 */
export function chooseBackup(config: Config, name: string | undefined, field = '--backup'): Backup {
  const dir = backupsDirOf(config);
  assertNoInstall(config.server.stateDir, 'rollback', { orPending: true });
  const backups = listBackups(dir);
  const backup = name === undefined ? backups[0] : backups.find((b) => b.dir === name || basename(b.dir) === name);
  if (!backup) throw new PlexliftError('BAD_ARGUMENT', name === undefined ? `no backup in ${dir} yet` : `${field}: no backup ${name} in ${dir}`);
  return backup;
}

/** The question a person answers before a rollback: which backup, and what it costs. */
export function rollbackQuestion(backup: Backup): string {
  return `Put back ${backup.dir} (made ${backup.manifest.createdAt} before job ${backup.manifest.jobId})? Home Plex is stopped and started, and what it learnt since is lost.`;
}

/** Puts `backup` back into home Plex: stops it, restores, starts it and waits until it answers. */
export async function rollbackHome(config: Config, backup: Backup, onStep?: (step: InstallStep, detail?: string) => void): Promise<RollbackOutcome> {
  const home = homeOf(config);
  // One rollback at a time, from the CLI or the daemon; a prune waits for it.
  return withHomeLock(config.server.stateDir, 'a rollback', async () => {
    // A job may have started installing since the backup was chosen (a question waited).
    assertNoInstall(config.server.stateDir, 'rollback', { orPending: true });
    await rollbackToBackup({
      pmsDir: home.plexDataDir,
      backup,
      control: createPlexControl(home.control),
      plex: { url: home.plexUrl, token: home.plexToken ?? readOnlineToken(home.plexDataDir) },
      startTimeoutMs: home.startTimeoutSeconds * 1000,
      onStep,
    });
    return { backup: basename(backup.dir), jobId: backup.manifest.jobId };
  });
}
