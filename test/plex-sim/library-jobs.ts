import { SECTION_TYPE, sectionTypeName } from '@plexlift/shared/plex-db';
import { randomUUID } from 'node:crypto';
import { SECTION_AGENTS } from '@plexlift/shared/plex-api';
import { analyzeSection } from './analyzer.js';
import { MetadataAgent } from './metadata-agent.js';
import type { SimRuntime } from './runtime.js';
import { scanSection, type ScanResult } from './scanner.js';
import { emptyTrash } from './trash.js';

/**
 * The library work PMS queues: scans run one at a time, each as a `library.update.section`
 * activity; `refreshing` turns true only a moment after the trigger (plex-api.md trap 5); a
 * forced refresh and a forced analysis re-process every item's metadata first.
 */
export class LibraryJobs {
  readonly metadata: MetadataAgent;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly refreshing = new Set<number>();
  private readonly pending = new Map<number, AbortController>();
  readonly scans: { section: number; result: ScanResult }[] = [];

  constructor(private readonly runtime: SimRuntime) {
    this.metadata = new MetadataAgent(runtime);
  }

  isRefreshing(section: number): boolean {
    return this.refreshing.has(section);
  }

  createSection(input: { name: string; type: string; agent?: string; scanner?: string; language?: string; locations: string[] }): number {
    const type = input.type as keyof typeof SECTION_TYPE;
    const defaults = SECTION_AGENTS[type];
    const at = this.runtime.epoch();
    const write = this.runtime.library.write;
    const id = this.runtime.library.db.transaction(() => {
      const section = write.section({
        name: input.name,
        type: SECTION_TYPE[type],
        agent: input.agent ?? defaults.agent,
        scanner: input.scanner ?? defaults.scanner,
        language: input.language ?? 'en-US',
        uuid: randomUUID(),
        at,
      });
      for (const location of input.locations) {
        write.location(section, location, at);
        write.directory(section, null, '', at);
      }
      return section;
    })();
    this.runtime.log.debug(`Library section ${id} (${input.name}) created with ${input.locations.length} locations.`, 'scanner');
    return id;
  }

  /** Queues a scan; resolves when it has run. `force` also refreshes every item's metadata. */
  scan(section: number, options: { path?: string; force?: boolean } = {}): Promise<void> {
    const controller = new AbortController();
    this.pending.set(section, controller);
    const run = this.chain.then(async () => {
      if (controller.signal.aborted) return;
      const row = this.runtime.library.section(section);
      if (!row) return;
      const activity = this.runtime.activities.start({ type: 'library.update.section', title: 'Scanning', cancellable: true });
      controller.signal.addEventListener('abort', () => activity.controller.abort(), { once: true });
      // `refreshing` lags the scan, as on a real server: right after the trigger it still reads false.
      let scanning = true;
      void this.runtime.wait(this.runtime.options.timings.refreshingLagMs, activity.controller.signal).then(
        () => scanning && this.refreshing.add(section),
        () => undefined,
      );
      try {
        const result = await scanSection(this.runtime, row, activity, options.path === undefined ? {} : { path: options.path });
        this.scans.push({ section, result });
        const items = options.force ? this.metadata.allItems(section) : result.addedItems;
        if (items.length > 0) void this.metadata.enqueue(section, items);
      } catch (error) {
        if (!activity.controller.signal.aborted) this.runtime.log.error(`Scanner: ${(error as Error).message}`, 'scanner');
      } finally {
        scanning = false;
        this.runtime.activities.end(activity);
        this.refreshing.delete(section);
        this.pending.delete(section);
      }
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  cancel(section?: number): void {
    for (const [id, controller] of this.pending) if (section === undefined || id === section) controller.abort();
    for (const activity of this.runtime.activities.list()) {
      if (activity.cancellable && (section === undefined || activity.context?.librarySectionID === String(section))) activity.controller.abort();
    }
  }

  /**
   * `PUT …/analyze`. With `force`, every item's metadata is refreshed first: the trap that cost
   * the previous tool a 2 h refresh before Sonic analysis.
   */
  analyze(section: number, options: { force?: boolean } = {}): Promise<void> {
    const run = this.chain.then(async () => {
      if (options.force) await this.metadata.enqueue(section, this.metadata.allItems(section));
      const activity = this.runtime.activities.start({
        type: 'media.analyze',
        title: 'Analyzing',
        cancellable: true,
        context: { librarySectionID: String(section) },
      });
      try {
        const files = await analyzeSection(this.runtime, section, activity);
        this.runtime.log.debug(`Analysis of section ${section} complete: ${files} files.`, 'scanner');
      } catch (error) {
        if (!activity.controller.signal.aborted) throw error;
      } finally {
        this.runtime.activities.end(activity);
      }
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  emptyTrash(section: number): number {
    return emptyTrash(this.runtime, section);
  }

  /** Items of the section's main kind, or of `type`, not marked deleted. */
  count(section: number, type: number | undefined): number {
    const row = this.runtime.library.section(section);
    const kind = row ? sectionTypeName(row.sectionType) : 'unknown';
    const main = { movie: 1, show: 2, artist: 8, photo: 14, unknown: 1 }[kind];
    return this.runtime.library.countItems(section, type ?? main);
  }

  idle(): Promise<void> {
    return this.chain.then(() => this.metadata.idle());
  }
}
