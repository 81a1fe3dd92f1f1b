import { mkdirSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { METADATA_TYPE } from '@plexlift/shared/plex-db';
import type { Activity } from './activities.js';
import type { SimRuntime } from './runtime.js';

/** The media analysis version PMS 1.43 writes. */
const ANALYSIS_VERSION = 6;

/**
 * `PUT /library/sections/{id}/analyze`: reads each file not analysed yet, records its
 * analysis, and writes a preview index (BIF) into `Media/localhost/…` for videos when
 * previews are on. With the stall fault it keeps the CPU busy and makes no progress.
 */
export async function analyzeSection(runtime: SimRuntime, section: number, activity: Activity): Promise<number> {
  const db = runtime.library.db;
  const rows = db
    .prepare(
      `SELECT mi.id AS media, mp.file, mp.hash, m.metadata_type AS type
         FROM media_items mi JOIN media_parts mp ON mp.media_item_id = mi.id JOIN metadata_items m ON m.id = mi.metadata_item_id
        WHERE mi.library_section_id = ? AND mi.deleted_at IS NULL AND mp.file <> '' AND mi.media_analysis_version < ?`,
    )
    .all(section, ANALYSIS_VERSION) as { media: number; file: string; hash: string; type: number }[];
  const previews = runtime.preferences.value('GenerateBIFBehavior') !== 'never';
  const signal = activity.controller.signal;
  for (const [i, row] of rows.entries()) {
    await stallIfFaulty(runtime, signal);
    signal.throwIfAborted();
    try {
      const handle = await open(row.file, 'r');
      await handle.read(Buffer.alloc(64 * 1024), 0, 64 * 1024, 0);
      await handle.close();
    } catch {
      runtime.log.warn(`Analysis: could not read '${row.file}'`, 'scanner');
      continue;
    }
    db.prepare(`UPDATE media_items SET media_analysis_version = ?, bitrate = coalesce(bitrate, 4000), duration = coalesce(duration, 5400000) WHERE id = ?`).run(
      ANALYSIS_VERSION,
      row.media,
    );
    if (previews && (row.type === METADATA_TYPE.movie || row.type === METADATA_TYPE.episode)) {
      const bundle = join(runtime.paths.media, row.hash.slice(0, 1), `${row.hash.slice(1)}.bundle`, 'Contents', 'Indexes');
      mkdirSync(bundle, { recursive: true });
      writeFileSync(join(bundle, 'index-sd.bif'), randomBytes(32 * 1024));
    }
    runtime.burn(2);
    runtime.activities.update(activity, { progress: ((i + 1) / rows.length) * 100 });
    await runtime.wait(runtime.options.timings.analyzeItemMs, signal);
  }
  return rows.length;
}

/**
 * Sonic analysis (the Butler's MusicAnalysis task): marks tracks analysed, one at a time, by
 * adding `ms:musicAnalysisVersion` to their JSON `extra_data` as PMS ≥ 1.40 writes it.
 */
export async function analyzeSonic(runtime: SimRuntime, activity: Activity): Promise<number> {
  const db = runtime.library.db;
  const tracks = db
    .prepare(
      `SELECT m.id, m.extra_data AS extraData FROM metadata_items m JOIN library_sections s ON s.id = m.library_section_id
        WHERE s.section_type = 8 AND m.metadata_type = ? AND m.deleted_at IS NULL
          AND (m.extra_data IS NULL OR (instr(m.extra_data, '"ms:musicAnalysisVersion"') = 0 AND instr(m.extra_data, 'ms%3AmusicAnalysisVersion=') = 0))
        ORDER BY m.parent_id, m."index"`,
    )
    .all(METADATA_TYPE.track) as { id: number; extraData: string | null }[];
  const update = db.prepare(`UPDATE metadata_items SET extra_data = ? WHERE id = ?`);
  const signal = activity.controller.signal;
  for (const [i, track] of tracks.entries()) {
    await stallIfFaulty(runtime, signal);
    signal.throwIfAborted();
    update.run(withSonic(track.extraData), track.id);
    runtime.burn(3);
    runtime.activities.update(activity, { progress: ((i + 1) / tracks.length) * 100 });
    await runtime.wait(runtime.options.timings.sonicTrackMs, signal);
  }
  return tracks.length;
}

function withSonic(extraData: string | null): string {
  let data: Record<string, string> = {};
  if (extraData?.startsWith('{')) data = JSON.parse(extraData) as Record<string, string>;
  delete data.url;
  data['ms:musicAnalysisVersion'] = '1';
  const url = Object.entries(data)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  return JSON.stringify({ ...data, url });
}

/** The stalled-analysis fault: CPU busy, no progress, until the fault is lifted or work cancelled. */
async function stallIfFaulty(runtime: SimRuntime, signal: AbortSignal): Promise<void> {
  while (runtime.options.faults.stallAnalysis) {
    signal.throwIfAborted();
    runtime.burn(5);
    await runtime.wait(1_000, signal);
  }
}
