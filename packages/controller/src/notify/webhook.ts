import type { NotifyConfig } from '@plexlift/shared';
import type { Notification } from './notification.js';

/**
 * POSTs the notification as JSON: `{ "event", "title", "text", "jobId", "at", "details" }`
 * (README, "Notifications"). Any 2xx is delivered.
 */
export async function sendWebhook(webhook: NonNullable<NotifyConfig['webhook']>, notification: Notification, signal: AbortSignal): Promise<void> {
  const response = await fetch(webhook.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'plexlift', ...webhook.headers },
    body: JSON.stringify(notification),
    signal,
    redirect: 'error',
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`the webhook answered HTTP ${response.status}`);
}
