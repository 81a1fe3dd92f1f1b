import { createTransport } from 'nodemailer';
import type { NotifyConfig } from '@plexlift/shared';
import type { Notification } from './notification.js';

/** Sends the notification as a plain-text e-mail through the configured SMTP server. */
export async function sendEmail(email: NonNullable<NotifyConfig['email']>, notification: Notification, timeoutMs: number): Promise<void> {
  const transport = createTransport({
    host: email.host,
    port: email.port,
    secure: email.secure,
    // STARTTLS or nothing: a server that does not offer it (or an attacker who strips it) never gets the password in clear.
    requireTLS: !email.secure && !email.insecure,
    ...(email.user ? { auth: { user: email.user, pass: email.password ?? '' } } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  try {
    await transport.sendMail({ from: email.from, to: email.to, subject: notification.title, text: notification.text });
  } finally {
    transport.close();
  }
}
