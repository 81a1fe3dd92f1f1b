import type { NotifyEvent } from '@plexlift/shared';

/**
 * One message for people: what happened, said once for every channel. It never carries a
 * secret: job errors are written without them, and nothing from the config is put in.
 */
export interface Notification {
  event: NotifyEvent;
  /** One line: `plexlift: job job-… done (landed)`. */
  title: string;
  /** A few lines: what happened, what it cost, what to do. */
  text: string;
  jobId?: string;
  /** ISO time of the event. */
  at: string;
  /** Facts for a machine reading the webhook (state, error code, hours, cost). */
  details: Record<string, unknown>;
}
