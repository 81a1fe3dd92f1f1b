import { findProcessesWithOpenFile } from '@plexlift/shared/plex-db';
import { decideRemount, type MountHealth } from './mount-health.js';
import type { RcloneMount } from './rclone-mount.js';

export interface MountSupervisorOptions {
  /** Between health checks. @default 60 s */
  intervalMs?: number;
  /** Files to read on each check (the preflight's sample once it exists): a listing alone lies. */
  sampleFiles?: () => string[];
  /** Whether anything reads through the mount now. @default an open file under it in /proc */
  ioActive?: () => boolean;
  /** Each decision that is not "keep", for the job's events. */
  onEvent?: (event: MountSupervisorEvent) => void;
}

export interface MountSupervisorEvent {
  decision: 'remount' | 'wait-for-idle' | 'remounted' | 'remount-failed';
  health: MountHealth;
  error?: string;
}

/**
 * Watches the media mount through the long phases and repairs it the only safe way: a mount
 * that stopped answering is remounted when nothing reads through it, and left alone (and said
 * so) while Plex or the warmer holds files open, because a lazy unmount under a scan is what
 * empties a library. The deletion guard still checks every scan afterwards.
 */
export class MountSupervisor {
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  remounts = 0;

  constructor(
    private readonly mount: RcloneMount,
    private readonly options: MountSupervisorOptions = {},
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.check(), this.options.intervalMs ?? 60_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.checking;
  }

  /** One health check and what follows from it; checks never overlap. */
  check(): Promise<void> {
    this.checking ??= this.checkOnce().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async checkOnce(): Promise<void> {
    const health = await this.mount.checkHealth(this.options.sampleFiles?.() ?? [], 15_000);
    const decision = decideRemount(health, { ioActive: (this.options.ioActive ?? (() => isReadThrough(this.mount.mountPoint)))() });
    if (decision === 'keep') return;
    this.options.onEvent?.({ decision, health });
    if (decision !== 'remount') return;
    try {
      await this.mount.remount();
      this.remounts += 1;
      this.options.onEvent?.({ decision: 'remounted', health: await this.mount.checkHealth(this.options.sampleFiles?.() ?? [], 15_000) });
    } catch (error) {
      this.options.onEvent?.({ decision: 'remount-failed', health, error: (error as Error).message });
    }
  }
}

function isReadThrough(mountPoint: string): boolean {
  const root = `${mountPoint.replace(/\/+$/, '')}/`;
  return findProcessesWithOpenFile((path) => path.startsWith(root)).length > 0;
}
