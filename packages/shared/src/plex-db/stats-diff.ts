import { COUNTED_KINDS, emptyCounts, type KindCounts, type LibraryStats, type SectionStats } from './library-stats.js';

export interface SectionDelta {
  id: number;
  title: string;
  /** `added`: only in `after`; `removed`: only in `before`. Sections are matched by id. */
  status: 'changed' | 'unchanged' | 'added' | 'removed';
  before?: SectionStats | undefined;
  after?: SectionStats | undefined;
  /** after − before, per kind (a missing side counts as zero). */
  counts: KindCounts;
  deleted: number;
  parts: number;
}

export interface StatsDiff {
  sections: SectionDelta[];
  /** Sums over all sections. */
  total: { counts: KindCounts; deleted: number; parts: number };
}

/** Compares two stats of the same library (before/after a job) as per-section deltas. */
export function diffLibraryStats(before: LibraryStats, after: LibraryStats): StatsDiff {
  const ids = [...new Set([...before.sections, ...after.sections].map((s) => s.id))].sort((a, b) => a - b);
  const total = { counts: emptyCounts(), deleted: 0, parts: 0 };
  const sections = ids.map((id): SectionDelta => {
    const b = before.sections.find((s) => s.id === id);
    const a = after.sections.find((s) => s.id === id);
    const counts = emptyCounts();
    for (const kind of COUNTED_KINDS) {
      counts[kind] = (a?.counts[kind] ?? 0) - (b?.counts[kind] ?? 0);
      total.counts[kind] += counts[kind];
    }
    const deleted = (a?.deleted ?? 0) - (b?.deleted ?? 0);
    const parts = (a?.parts ?? 0) - (b?.parts ?? 0);
    total.deleted += deleted;
    total.parts += parts;
    const changed = deleted !== 0 || parts !== 0 || COUNTED_KINDS.some((kind) => counts[kind] !== 0);
    return {
      id,
      title: (a ?? b)?.title ?? '',
      status: !b ? 'added' : !a ? 'removed' : changed ? 'changed' : 'unchanged',
      before: b,
      after: a,
      counts,
      deleted,
      parts,
    };
  });
  return { sections, total };
}
