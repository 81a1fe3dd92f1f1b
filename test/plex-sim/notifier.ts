import { EventEmitter } from 'node:events';

/**
 * The notification stream of `/:/websockets/notifications`: each message is
 * `{"NotificationContainer":{"type":…,"size":n,"<Child>":[…]}}` (plex-api.md §4.3).
 */
export interface Notification {
  type: 'activity' | 'timeline' | 'status' | 'progress';
  child: 'ActivityNotification' | 'TimelineEntry' | 'StatusNotification' | 'ProgressNotification';
  entries: Record<string, unknown>[];
}

export class Notifier extends EventEmitter<{ notification: [Notification] }> {
  publish(notification: Notification): void {
    this.emit('notification', notification);
  }

  timeline(entry: { sectionID: number; itemID: number; type: number; title: string; state: number; metadataState?: string; mediaState?: string }): void {
    this.publish({
      type: 'timeline',
      child: 'TimelineEntry',
      entries: [
        {
          identifier: 'com.plexapp.plugins.library',
          updatedAt: Math.floor(Date.now() / 1000),
          ...entry,
          sectionID: String(entry.sectionID),
          itemID: String(entry.itemID),
        },
      ],
    });
  }

  status(title: string, description: string, notificationName = 'LIBRARY_UPDATE'): void {
    this.publish({ type: 'status', child: 'StatusNotification', entries: [{ title, description, notificationName }] });
  }
}

export function toMessage(notification: Notification): string {
  return JSON.stringify({
    NotificationContainer: { type: notification.type, size: notification.entries.length, [notification.child]: notification.entries },
  });
}
