import type { NotifyConfig } from '@plexlift/shared';
import type { Logger } from '../logger.js';
import { sendEmail } from './email.js';
import type { Notification } from './notification.js';
import { sendNtfy } from './ntfy.js';
import { sendWebhook } from './webhook.js';

/** Each channel gets this long per message: a dead server never holds a job or a stop. */
const SEND_TIMEOUT_MS = 15_000;

export interface ChannelResult {
  channel: 'webhook' | 'ntfy' | 'email';
  ok: boolean;
  detail: string;
}

export interface Notifier {
  /** Tells every configured channel, if the config wants this event; never throws (a failure is logged). */
  notify(notification: Omit<Notification, 'at'>): void;
  /** Sends to every configured channel now and says how each went (`plexlift notify test`). */
  send(notification: Omit<Notification, 'at'>): Promise<ChannelResult[]>;
  /** A reloaded config's channels (SIGHUP): the next message uses them. */
  setConfig(next: NotifyConfig | undefined): void;
  /** Resolves once the messages under way are sent or given up. */
  idle(): Promise<void>;
}

/**
 * Sends notifications to the configured channels. A channel's failure is logged by its name and
 * status only: a webhook URL or a server's answer may hold a secret.
 */
export function createNotifier(initial: NotifyConfig | undefined, logger: Logger): Notifier {
  let current = initial;
  const pending = new Set<Promise<unknown>>();
  const send = async (input: Omit<Notification, 'at'>): Promise<ChannelResult[]> => {
    const notify = current;
    if (!notify) return [];
    const notification: Notification = { ...input, at: new Date().toISOString() };
    const channels: [ChannelResult['channel'], (signal: AbortSignal) => Promise<void>][] = [];
    if (notify.webhook) channels.push(['webhook', (signal) => sendWebhook(notify.webhook!, notification, signal)]);
    if (notify.ntfy) channels.push(['ntfy', (signal) => sendNtfy(notify.ntfy!, notification, signal)]);
    if (notify.email) channels.push(['email', () => sendEmail(notify.email!, notification, SEND_TIMEOUT_MS)]);
    return Promise.all(
      channels.map(async ([channel, deliver]): Promise<ChannelResult> => {
        try {
          await deliver(AbortSignal.timeout(SEND_TIMEOUT_MS));
          return { channel, ok: true, detail: 'sent' };
        } catch (error) {
          const detail = describeFailure(error);
          logger.warn(`notification ${notification.event} not sent by ${channel}: ${detail}`);
          return { channel, ok: false, detail };
        }
      }),
    );
  };
  return {
    notify(notification) {
      if (notification.event === 'test' || !current?.events.includes(notification.event)) return;
      const sending = send(notification).finally(() => pending.delete(sending));
      pending.add(sending);
    },
    send,
    setConfig: (next) => (current = next),
    idle: async () => {
      await Promise.allSettled([...pending]);
    },
  };
}

/** Why a send failed, without the URL or the server's words (they may hold a token). */
function describeFailure(error: unknown): string {
  const failure = error as Error & { code?: string; cause?: { code?: string }; responseCode?: number };
  if (failure.name === 'TimeoutError' || failure.name === 'AbortError') return `no answer within ${SEND_TIMEOUT_MS / 1000} s`;
  if (/^(the webhook|ntfy) answered HTTP \d+$/.test(failure.message)) return failure.message;
  if (failure.responseCode) return `the SMTP server answered ${failure.responseCode}`;
  return failure.cause?.code ?? failure.code ?? 'cannot connect';
}
