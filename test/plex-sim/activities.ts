import { randomUUID } from 'node:crypto';
import type { PlexLog } from './plex-log.js';
import type { Notifier } from './notifier.js';
import { element, type XmlElement } from './xml.js';

export interface Activity {
  uuid: string;
  type: string;
  title: string;
  subtitle: string;
  cancellable: boolean;
  progress: number;
  context: Record<string, string | number> | undefined;
  /** Cancels the work behind the activity (`DELETE /activities/{uuid}`, `DELETE …/refresh`). */
  controller: AbortController;
}

/**
 * `/activities` and its notifications. As PMS does: the first `started` event carries no
 * `Context` (it arrives with the first update), progress -1 means indeterminate, and the
 * Butler's umbrella activity lingers at 100 % after its tasks end (plex-api.md trap 3).
 */
export class Activities {
  private readonly current = new Map<string, Activity>();

  constructor(
    private readonly notifier: Notifier,
    private readonly log: PlexLog,
  ) {}

  start(options: { type: string; title: string; subtitle?: string; cancellable?: boolean; context?: Record<string, string | number> }): Activity {
    const activity: Activity = {
      uuid: randomUUID(),
      type: options.type,
      title: options.title,
      subtitle: options.subtitle ?? '',
      cancellable: options.cancellable ?? false,
      progress: 0,
      context: options.context,
      controller: new AbortController(),
    };
    this.current.set(activity.uuid, activity);
    this.log.debug(`Activity: registered new activity ${activity.uuid} - "${activity.title}"`, 'activity');
    this.emit('started', { ...activity, context: undefined });
    return activity;
  }

  update(activity: Activity, changes: { progress?: number; subtitle?: string }): void {
    if (changes.progress !== undefined) activity.progress = Math.round(changes.progress * 10) / 10;
    if (changes.subtitle !== undefined) activity.subtitle = changes.subtitle;
    this.log.debug(`Activity: updated activity ${activity.uuid} - completed ${activity.progress.toFixed(1)}% - ${activity.title}`, 'activity');
    this.emit('updated', activity);
  }

  end(activity: Activity): void {
    if (!this.current.delete(activity.uuid)) return;
    this.log.debug(`Activity: Ended activity ${activity.uuid}.`, 'activity');
    this.emit('ended', activity);
  }

  get(uuid: string): Activity | undefined {
    return this.current.get(uuid);
  }

  list(): Activity[] {
    return [...this.current.values()];
  }

  find(predicate: (activity: Activity) => boolean): Activity | undefined {
    return this.list().find(predicate);
  }

  private emit(event: 'started' | 'updated' | 'ended', activity: Activity): void {
    this.notifier.publish({ type: 'activity', child: 'ActivityNotification', entries: [{ event, uuid: activity.uuid, Activity: toJsonActivity(activity) }] });
  }
}

function toJsonActivity(activity: Activity): Record<string, unknown> {
  return {
    uuid: activity.uuid,
    type: activity.type,
    cancellable: activity.cancellable,
    userID: 1,
    title: activity.title,
    subtitle: activity.subtitle,
    progress: activity.progress,
    ...(activity.context ? { Context: activity.context } : {}),
  };
}

export function activityElement(activity: Activity): XmlElement {
  return element(
    'Activity',
    {
      uuid: activity.uuid,
      type: activity.type,
      cancellable: activity.cancellable,
      userID: 1,
      title: activity.title,
      subtitle: activity.subtitle,
      progress: activity.progress,
    },
    activity.context ? [element('Context', activity.context)] : [],
  );
}
