import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { METADATA_TYPE } from '@plexlift/shared/plex-db';
import type { Activity } from './activities.js';
import type { SimRuntime } from './runtime.js';

const BUNDLE_FOLDER: Record<number, string> = {
  [METADATA_TYPE.movie]: 'Movies',
  [METADATA_TYPE.show]: 'TV Shows',
  [METADATA_TYPE.season]: 'TV Shows',
  [METADATA_TYPE.episode]: 'TV Shows',
  [METADATA_TYPE.artist]: 'Artists',
  [METADATA_TYPE.album]: 'Albums',
  [METADATA_TYPE.track]: 'Albums',
  [METADATA_TYPE.photo]: 'Photos',
  [METADATA_TYPE.photoAlbum]: 'Photos',
};

/**
 * Metadata processing after a scan: a queue per section (`updateQueueSize` of the section's
 * timeline) drained one item at a time, each writing its `Metadata/` bundle, so a finished scan
 * is not a finished library (plex-api.md trap 2).
 */
export class MetadataAgent {
  private readonly queues = new Map<number, number[]>();
  private readonly running = new Map<number, Promise<void>>();

  constructor(private readonly runtime: SimRuntime) {}

  queueSize(section: number): number {
    return this.queues.get(section)?.length ?? 0;
  }

  enqueue(section: number, items: number[]): Promise<void> {
    const queue = this.queues.get(section) ?? [];
    queue.push(...items);
    this.queues.set(section, queue);
    let run = this.running.get(section);
    if (!run) {
      run = this.drain(section).finally(() => this.running.delete(section));
      this.running.set(section, run);
    }
    return run;
  }

  /** Everything queued, for `refresh?force=1`: every item of the section is refreshed. */
  allItems(section: number): number[] {
    return this.runtime.library.db
      .prepare(`SELECT id FROM metadata_items WHERE library_section_id = ? AND deleted_at IS NULL ORDER BY id`)
      .pluck()
      .all(section) as number[];
  }

  idle(): Promise<void> {
    return Promise.all(this.running.values()).then(() => undefined);
  }

  private async drain(section: number): Promise<void> {
    const { runtime } = this;
    const queue = this.queues.get(section)!;
    let activity: Activity | undefined;
    const total = () => queue.length;
    let done = 0;
    try {
      activity = runtime.activities.start({
        type: 'library.refresh.items',
        title: 'Refreshing',
        cancellable: true,
        context: { librarySectionID: String(section) },
      });
      while (queue.length > 0) {
        activity.controller.signal.throwIfAborted();
        const id = queue.shift()!;
        this.refresh(section, id);
        done += 1;
        runtime.burn();
        runtime.activities.update(activity, { progress: (done / (done + total())) * 100 });
        await runtime.wait(runtime.options.timings.metadataItemMs, activity.controller.signal);
      }
    } catch (error) {
      if (!activity?.controller.signal.aborted) throw error;
      queue.length = 0;
    } finally {
      if (activity) runtime.activities.end(activity);
    }
  }

  private refresh(section: number, id: number): void {
    const { runtime } = this;
    const db = runtime.library.db;
    const row = db.prepare(`SELECT metadata_type AS type, hash, title FROM metadata_items WHERE id = ?`).get(id) as
      { type: number; hash: string | null; title: string } | undefined;
    if (!row?.hash) return;
    const bundle = join(runtime.paths.metadata, BUNDLE_FOLDER[row.type] ?? 'Other', row.hash.slice(0, 1), `${row.hash.slice(1)}.bundle`, 'Contents');
    mkdirSync(join(bundle, '_combined', 'posters'), { recursive: true });
    writeFileSync(join(bundle, '_combined', 'Info.xml'), `<?xml version="1.0" encoding="utf-8"?>\n<Metadata title="${escapeXml(row.title)}" />\n`);
    if ([METADATA_TYPE.movie, METADATA_TYPE.show, METADATA_TYPE.artist, METADATA_TYPE.album].includes(row.type as 1)) {
      writeFileSync(join(bundle, '_combined', 'posters', `tv.plex.agents_${row.hash.slice(0, 12)}`), randomBytes(16 * 1024));
    }
    const now = runtime.epoch();
    db.prepare(`UPDATE metadata_items SET refreshed_at = ?, updated_at = ?, user_thumb_url = ? WHERE id = ?`).run(
      now,
      now,
      `metadata://posters/tv.plex.agents_${row.hash.slice(0, 12)}`,
      id,
    );
    runtime.notifier.timeline({ sectionID: section, itemID: id, type: row.type, title: row.title, state: 5 });
  }
}

function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
}
