import { z } from 'zod';
import { PhaseNameSchema } from './schemas/phases.js';

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
    rate: z.object({ value: z.number(), unit: z.string() }).optional(),
    etaMs: z.number().nonnegative().optional(),
    message: z.string().optional(),
  }),
  z.object({ type: z.literal('phase:complete'), phase: PhaseNameSchema, summary: z.record(z.string(), z.unknown()).default({}) }),
  z.object({ type: z.literal('phase:fail'), phase: PhaseNameSchema, code: z.string(), message: z.string() }),
  z.object({ type: z.literal('cpu:sample'), percent: z.number().min(0) }),
  z.object({ type: z.literal('log'), level: z.enum(['info', 'warn', 'error']), message: z.string() }),
]);

export type AgentEvent = z.infer<typeof AgentEventSchema>;
export type AgentEventType = AgentEvent['type'];
