import { z } from 'zod';

/**
 * DESIGN.md "Deletion cap": a scan that marks more than 5 % of a section's items deleted, or more
 * than 100, whichever comes first, is not installed without the user's say-so (cloud-bursting:
 * a scan over a degraded mount deleted 221 of 224 films).
 */
export const DEFAULT_DELETION_CAP = { maxPercent: 5, maxItems: 100 } as const;

export const DeletionCapSchema = z
  .object({
    maxPercent: z.number().min(0).max(100).default(DEFAULT_DELETION_CAP.maxPercent),
    maxItems: z.number().int().min(0).default(DEFAULT_DELETION_CAP.maxItems),
  })
  .strict()
  .default(() => ({ ...DEFAULT_DELETION_CAP }));
export type DeletionCap = z.output<typeof DeletionCapSchema>;

/** The most items a section of `total` may lose under `cap`: its percent or its count, whichever is lower. */
export function deletionLimit(total: number, cap: DeletionCap = DEFAULT_DELETION_CAP): number {
  return Math.min(Math.floor((total * cap.maxPercent) / 100), cap.maxItems);
}
