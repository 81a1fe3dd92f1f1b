import type { NotifyConfig } from '@plexlift/shared';
import type { Notification } from './notification.js';

/** How much each event matters to ntfy (1 min to 5 max): a failure or a cap wakes the phone. */
const PRIORITY: Record<Notification['event'], string> = {
  'job:done': '3',
  'job:landing': '3',
  'reaper:deleted': '4',
  'job:failed': '4',
  'job:cap': '4',
  test: '3',
};

/** Publishes to an ntfy topic: the text as the body, the title and priority as ntfy's headers. */
export async function sendNtfy(ntfy: NonNullable<NotifyConfig['ntfy']>, notification: Notification, signal: AbortSignal): Promise<void> {
  const response = await fetch(ntfy.url, {
    method: 'POST',
    headers: {
      // Header values are Latin-1: ntfy reads RFC 2047 encoded words for the rest.
      Title: `=?UTF-8?B?${Buffer.from(notification.title).toString('base64')}?=`,
      Priority: PRIORITY[notification.event],
      Tags: notification.event.replace(':', '-'),
      ...(ntfy.token ? { Authorization: `Bearer ${ntfy.token}` } : {}),
    },
    body: notification.text,
    signal,
    redirect: 'error',
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`ntfy answered HTTP ${response.status}`);
}
