import { randomUUID } from 'node:crypto';
import type { Activity } from './activities.js';
import type { SimRuntime } from './runtime.js';
import { element, type XmlElement } from './xml.js';

interface ButlerTaskDefinition {
  name: string;
  interval: number;
  scheduleRandomized: boolean;
  enabled: boolean;
  title?: string;
  description?: string;
  /** The server setting that switches it (when there is one). */
  setting?: string;
}

/** The Butler tasks of PMS 1.43.2, as its `/butler` lists them (the real capture). */
export const BUTLER_TASKS: ButlerTaskDefinition[] = [
  { name: 'AutomaticUpdates', interval: 1, scheduleRandomized: false, enabled: false },
  {
    name: 'BackupDatabase',
    interval: 3,
    scheduleRandomized: false,
    enabled: true,
    title: 'Backup Database',
    description: "Create a backup copy of the server's database in the configured backup directory",
    setting: 'ButlerTaskBackupDatabase',
  },
  { name: 'ButlerTaskCleanSupplementalLogFiles', interval: 1, scheduleRandomized: false, enabled: false },
  { name: 'ButlerTaskGenerateAdMarkers', interval: 1, scheduleRandomized: false, enabled: false },
  { name: 'ButlerTaskGenerateCreditsMarkers', interval: 1, scheduleRandomized: true, enabled: true },
  { name: 'ButlerTaskGenerateIntroMarkers', interval: 1, scheduleRandomized: false, enabled: true },
  { name: 'ButlerTaskGenerateVoiceActivity', interval: 1, scheduleRandomized: true, enabled: false },
  { name: 'CleanOldBundles', interval: 7, scheduleRandomized: false, enabled: true, setting: 'ButlerTaskCleanOldBundles' },
  { name: 'CleanOldCacheFiles', interval: 7, scheduleRandomized: false, enabled: true, setting: 'ButlerTaskCleanOldCacheFiles' },
  { name: 'DeepMediaAnalysis', interval: 1, scheduleRandomized: false, enabled: true, setting: 'ButlerTaskDeepMediaAnalysis' },
  { name: 'GarbageCollectBlobs', interval: 7, scheduleRandomized: false, enabled: true, setting: 'ButlerTaskGarbageCollectBlobs' },
  { name: 'GarbageCollectLibraryMedia', interval: 1, scheduleRandomized: false, enabled: true },
  { name: 'GenerateChapterThumbs', interval: 1, scheduleRandomized: false, enabled: true },
  { name: 'GenerateMediaIndexFiles', interval: 1, scheduleRandomized: false, enabled: false, setting: 'ButlerTaskGenerateMediaIndexFiles' },
  { name: 'LoudnessAnalysis', interval: 1, scheduleRandomized: false, enabled: true },
  { name: 'MusicAnalysis', interval: 1, scheduleRandomized: false, enabled: true },
  { name: 'OptimizeDatabase', interval: 7, scheduleRandomized: false, enabled: true, setting: 'ButlerTaskOptimizeDatabase' },
  { name: 'ProcessAssets', interval: 1, scheduleRandomized: false, enabled: true },
  { name: 'RefreshEpgGuides', interval: 1, scheduleRandomized: true, enabled: true },
  { name: 'RefreshLibraries', interval: 1, scheduleRandomized: false, enabled: false, setting: 'ButlerTaskRefreshLibraries' },
  { name: 'RefreshLocalMedia', interval: 3, scheduleRandomized: false, enabled: true, setting: 'ButlerTaskRefreshLocalMedia' },
  { name: 'RefreshPeriodicMetadata', interval: 1, scheduleRandomized: true, enabled: true, setting: 'ButlerTaskRefreshPeriodicMetadata' },
  { name: 'UpgradeMediaAnalysis', interval: 1, scheduleRandomized: false, enabled: true, setting: 'ButlerTaskUpgradeMediaAnalysis' },
];

export type ButlerWork = (task: string, signal: AbortSignal) => Promise<string | undefined>;

/**
 * The Butler: `/butler` (not a MediaContainer), `POST /butler/{task}` (200 started, 202 already
 * running, 404 unknown), and waking up by itself when the server clock is inside
 * `ButlerStartHour`–`ButlerEndHour`, leaving its umbrella activity behind at 100 %.
 */
export class Butler {
  private readonly running = new Map<string, AbortController>();
  private umbrella: Activity | undefined;
  private wakeTimer: AbortController | undefined;
  private closed = false;
  private readonly runs = new Set<Promise<void>>();

  constructor(
    private readonly runtime: SimRuntime,
    private readonly work: ButlerWork,
  ) {}

  tasksElement(): XmlElement {
    return element(
      'ButlerTasks',
      {},
      BUTLER_TASKS.map((task) =>
        element('ButlerTask', {
          name: task.name,
          interval: task.interval,
          scheduleRandomized: task.scheduleRandomized,
          enabled: this.isEnabled(task),
          title: task.title,
          description: task.description,
        }),
      ),
    );
  }

  start(name: string): 200 | 202 | 404 {
    const task = BUTLER_TASKS.find((t) => t.name === name);
    if (!task) return 404;
    if (this.running.has(name)) return 202;
    this.track(this.run([task]));
    return 200;
  }

  startAll(): void {
    this.track(this.run(BUTLER_TASKS.filter((task) => this.isEnabled(task) && !this.running.has(task.name))));
  }

  stop(name?: string): boolean {
    if (name !== undefined && !BUTLER_TASKS.some((t) => t.name === name)) return false;
    for (const [task, controller] of this.running) if (name === undefined || task === name) controller.abort();
    return true;
  }

  isInWindow(): boolean {
    const start = Number(this.runtime.preferences.value('ButlerStartHour'));
    const end = Number(this.runtime.preferences.value('ButlerEndHour'));
    const hour = Number(
      new Intl.DateTimeFormat('en-US', { timeZone: this.runtime.options.timeZone, hour: 'numeric', hourCycle: 'h23' }).format(this.runtime.now()),
    );
    return start <= end ? hour >= start && hour < end : hour >= start || hour < end;
  }

  /** Schedules the wake-up PMS does some minutes after start (real log: 5 min). */
  scheduleWakeUp(): void {
    this.wakeTimer = new AbortController();
    const { signal } = this.wakeTimer;
    this.runtime
      .wait(this.runtime.options.timings.butlerWakeMs, signal)
      .then(() => {
        if (!this.isInWindow()) {
          this.runtime.log.debug('Butler: not in the window, going back to sleep.', 'activity');
          return;
        }
        this.runtime.log.debug("Butler: we're in the window, starting.", 'activity');
        this.runtime.log.debug('Butler: Waking up!', 'activity');
        for (const task of BUTLER_TASKS.filter((t) => t.scheduleRandomized && this.isEnabled(t))) {
          this.runtime.log.debug(`Butler: Scheduling randomized task '${task.name}' in ${13 + ((task.name.length * 7) % 56)} minutes.`, 'activity');
        }
        this.startAll();
      })
      .catch(() => undefined);
  }

  /** Stops every task and resolves once none is left running. */
  async close(): Promise<void> {
    this.closed = true;
    this.wakeTimer?.abort();
    this.stop();
    await Promise.all(this.runs);
  }

  private track(run: Promise<void>): void {
    this.runs.add(run);
    void run.finally(() => this.runs.delete(run));
  }

  private isEnabled(task: ButlerTaskDefinition): boolean {
    return task.setting ? this.runtime.preferences.value(task.setting) === true : task.enabled;
  }

  private async run(tasks: ButlerTaskDefinition[]): Promise<void> {
    if (tasks.length === 0) return;
    const { activities, log } = this.runtime;
    this.umbrella ??= activities.start({ type: 'butler', title: 'Butler tasks' });
    for (const task of tasks) this.running.set(task.name, new AbortController());
    for (const [i, task] of tasks.entries()) {
      const controller = this.running.get(task.name)!;
      if (this.closed) {
        this.running.delete(task.name);
        continue;
      }
      log.debug(
        `Activity: registered new sub-activity ${randomUUID()} - "${task.name}" parent: ${this.umbrella.uuid} overall progress: ${((100 * i) / tasks.length).toFixed(1)}% (${i}/${tasks.length})`,
        'butler',
      );
      try {
        // No task is instant on a real server; long ones (Sonic) take as long as their work.
        await this.runtime.wait(this.runtime.options.timings.butlerTaskMs, controller.signal);
        const line = await this.work(task.name, controller.signal);
        if (line) log.debug(line, 'butler');
      } catch (error) {
        if (!controller.signal.aborted) log.error(`Butler: Uncaught exception running task ${task.name}: ${(error as Error).message}`, 'butler');
      } finally {
        this.running.delete(task.name);
      }
      if (!this.closed) activities.update(this.umbrella, { progress: 100 });
    }
    // The umbrella activity stays listed at 100 %: it never ends while PMS runs.
  }
}
