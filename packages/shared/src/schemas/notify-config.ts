import { z } from 'zod';

/** What a user can be told about, and the name each message carries (`event` in a webhook's body). */
export const NOTIFY_EVENTS = ['job:done', 'job:failed', 'job:landing', 'job:cap', 'reaper:deleted'] as const;
export const NotifyEventSchema = z.enum(NOTIFY_EVENTS);
/** The events, and `test` (`plexlift notify test`, sent whatever `events` says). */
export type NotifyEvent = z.infer<typeof NotifyEventSchema> | 'test';

const httpUrl = z.url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' });

/**
 * Where plexlift says that a job ended, failed, is landing or hit its cap, and that the reaper
 * deleted something: a webhook (a JSON body), an ntfy topic, e-mail through an SMTP server. Each
 * is optional; none is the default. Secrets here (`ntfy.token`, `email.password`,
 * `webhook.headers`) are masked by `plexlift config get`.
 */
export const NotifyConfigSchema = z
  .object({
    /** Only these events (default: all of them). */
    events: z
      .array(NotifyEventSchema)
      .min(1)
      .default([...NOTIFY_EVENTS]),
    webhook: z
      .object({
        url: httpUrl,
        /** Sent with each call (an `Authorization` header, say). */
        headers: z.record(z.string(), z.string()).default({}),
      })
      .strict()
      .optional(),
    ntfy: z
      .object({
        /** The topic's URL: `https://ntfy.sh/my-plexlift`, or a self-hosted server's. */
        url: httpUrl,
        /** An access token for a protected topic (sent as a Bearer header). */
        token: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    email: z
      .object({
        host: z.string().min(1),
        port: z.number().int().min(1).max(65_535).default(587),
        /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
        secure: z.boolean().default(false),
        /** Allow a server without TLS (a relay on this LAN): the password would cross the network in clear. */
        insecure: z.boolean().default(false),
        user: z.string().min(1).optional(),
        password: z.string().min(1).optional(),
        from: z.string().min(3),
        to: z.array(z.string().min(3)).min(1),
      })
      .strict()
      .optional(),
  })
  .strict();

export type NotifyConfig = z.output<typeof NotifyConfigSchema>;
