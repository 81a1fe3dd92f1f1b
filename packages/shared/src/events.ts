import { z } from 'zod';
import { PhaseNameSchema } from './schemas/phases.js';

/**
 * How long an agent's text may be, and a phase summary's JSON: what an agent sends is stored at
 * home and printed on the admin's terminal (issue 16: ten 20 MiB log events were stored).
 * `clipAgentEvent` makes an event fit before it is sent.
 */
export const AGENT_EVENT_LIMITS = { messageChars: 4_096, codeChars: 64, unitChars: 32, summaryBytes: 64 * 1024 } as const;

const message = z.string().max(AGENT_EVENT_LIMITS.messageChars);
const summary = z.record(z.string(), z.unknown()).refine((value) => Buffer.byteLength(JSON.stringify(value)) <= AGENT_EVENT_LIMITS.summaryBytes, {
  message: `a phase summary may take ${AGENT_EVENT_LIMITS.summaryBytes} bytes of JSON`,
});

/**
 * What an agent reports, one typed map with `subject:verb[:outcome]` names. The job store's
 * events table, the `tracked()` stream and the CLI all use these names.
 */
export const AgentEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('phase:start'), phase: PhaseNameSchema }),
  z.object({
    type: z.literal('phase:progress'),
    phase: PhaseNameSchema,
    /** 0–100, absent when unknown. */
    percent: z.number().min(0).max(100).optional(),
    /** Items per hour, bytes per second… with its unit. */
    rate: z.object({ value: z.number(), unit: z.string().max(AGENT_EVENT_LIMITS.unitChars) }).optional(),
    etaMs: z.number().nonnegative().optional(),
    message: message.optional(),
  }),
  z.object({ type: z.literal('phase:complete'), phase: PhaseNameSchema, summary: summary.default({}) }),
  z.object({ type: z.literal('phase:fail'), phase: PhaseNameSchema, code: z.string().max(AGENT_EVENT_LIMITS.codeChars), message }),
  z.object({ type: z.literal('cpu:sample'), percent: z.number().min(0) }),
  z.object({ type: z.literal('log'), level: z.enum(['info', 'warn', 'error']), message }),
]);

export type AgentEvent = z.infer<typeof AgentEventSchema>;
export type AgentEventType = AgentEvent['type'];

/**
 * The event cut to `AGENT_EVENT_LIMITS`, so home takes it rather than refusing it for good: long
 * text ends in `…`, and a summary too large keeps its first fields and names the others in
 * `clipped`.
 */
export function clipAgentEvent(event: AgentEvent): AgentEvent {
  const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
  switch (event.type) {
    case 'phase:progress':
      return {
        ...event,
        ...(event.message === undefined ? {} : { message: clip(event.message, AGENT_EVENT_LIMITS.messageChars) }),
        ...(event.rate ? { rate: { ...event.rate, unit: clip(event.rate.unit, AGENT_EVENT_LIMITS.unitChars) } } : {}),
      };
    case 'phase:fail':
      return { ...event, code: clip(event.code, AGENT_EVENT_LIMITS.codeChars), message: clip(event.message, AGENT_EVENT_LIMITS.messageChars) };
    case 'log':
      return { ...event, message: clip(event.message, AGENT_EVENT_LIMITS.messageChars) };
    case 'phase:complete':
      return { ...event, summary: clipSummary(event.summary) };
    default:
      return event;
  }
}

function clipSummary(summary: Record<string, unknown>): Record<string, unknown> {
  if (Buffer.byteLength(JSON.stringify(summary)) <= AGENT_EVENT_LIMITS.summaryBytes) return summary;
  const kept: Record<string, unknown> = {};
  const clipped: string[] = [];
  // Room for the names of what is left out.
  let room = AGENT_EVENT_LIMITS.summaryBytes / 2;
  for (const [key, value] of Object.entries(summary)) {
    const bytes = Buffer.byteLength(JSON.stringify({ [key]: value }));
    if (bytes <= room) {
      kept[key] = value;
      room -= bytes;
    } else if (clipped.length < 100) clipped.push(clip80(key));
  }
  return { ...kept, clipped };
}

const clip80 = (text: string) => text.slice(0, 80);
