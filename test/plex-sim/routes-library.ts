import { statSync } from 'node:fs';
import { SECTION_TYPE, sectionTypeName } from '@plexlift/shared/plex-db';
import { htmlError, type PlexReply, type PlexRequest, type Route } from './http-server.js';
import type { LibraryJobs } from './library-jobs.js';
import type { SectionRow } from './library-db.js';
import type { SimRuntime } from './runtime.js';
import type { ServerState } from './routes-server.js';
import { element, type XmlElement } from './xml.js';

const TYPE_BY_NUMBER: Record<string, string> = { '1': 'movie', '2': 'show', '8': 'artist', '13': 'photo' };

/** `/library` and `/library/sections/…`: listing, creating, scanning, analysing, trash, counts. */
export function libraryRoutes(runtime: SimRuntime, state: ServerState, jobs: LibraryJobs): Route[] {
  const sectionOr404 = (id: string | undefined): SectionRow | undefined => (id && /^\d+$/.test(id) ? runtime.library.section(Number(id)) : undefined);
  const invalid = (id: string | undefined) => {
    runtime.log.warn(`Invalid library section ID ${id ?? ''} passed.`, 'http');
    return htmlError(404);
  };
  /** A route on one section: an unknown id answers 404 and logs as PMS does. */
  const onSection = (method: string, path: RegExp, handle: (section: SectionRow, request: PlexRequest) => PlexReply): Route => ({
    method,
    path,
    handle: (request) => {
      const section = sectionOr404(request.params[0]);
      return section ? handle(section, request) : invalid(request.params[0]);
    },
  });
  const directory = (section: SectionRow): XmlElement =>
    element(
      'Directory',
      {
        allowSync: true,
        art: '/:/resources/movie-fanart.jpg',
        composite: `/library/sections/${section.id}/composite/${section.updatedAt}`,
        filters: true,
        refreshing: jobs.isRefreshing(section.id),
        thumb: '/:/resources/movie.png',
        key: String(section.id),
        type: sectionTypeName(section.sectionType),
        title: section.name,
        agent: section.agent,
        scanner: section.scanner,
        language: section.language,
        uuid: section.uuid,
        updatedAt: section.updatedAt,
        createdAt: section.createdAt,
        scannedAt: section.scannedAt ?? 0,
        content: true,
        directory: true,
        contentChangedAt: section.contentChangedAt,
        hidden: 0,
      },
      section.locations.map((location) => element('Location', { id: location.id, path: location.path })),
    );

  return [
    {
      method: 'GET',
      path: /^\/library$/,
      handle: () => ({
        status: 200,
        body: element(
          'MediaContainer',
          {
            size: 3,
            allowSync: false,
            art: '/:/resources/library-art.png',
            content: '',
            identifier: 'com.plexapp.plugins.library',
            mediaTagPrefix: '/system/bundle/media/flags/',
            mediaTagVersion: 1777730215,
            title1: 'Plex Library',
            title2: '',
          },
          [
            element('Directory', { key: 'sections', title: 'Library Sections' }),
            element('Directory', { key: 'recentlyAdded', title: 'Recently Added Content' }),
            element('Directory', { key: 'onDeck', title: 'On Deck Content' }),
          ],
        ),
      }),
    },
    {
      method: 'GET',
      path: /^\/library\/sections(?:\/all)?$/,
      handle: () => {
        const sections = runtime.library.sections();
        return { status: 200, body: element('MediaContainer', { size: sections.length, allowSync: false, title1: 'Plex Library' }, sections.map(directory)) };
      },
    },
    {
      method: 'POST',
      path: /^\/library\/sections$/,
      handle: (request) => {
        if (state.starting) return { status: 400, html: 'server is still starting up. Please retry later' };
        const q = request.query;
        const type = TYPE_BY_NUMBER[q.get('type') ?? ''] ?? q.get('type') ?? '';
        const locations = q.getAll('location');
        if (!q.get('name') || !(type in SECTION_TYPE) || locations.length === 0 || locations.some((l) => !l.startsWith('/'))) return htmlError(400);
        const id = jobs.createSection({
          name: q.get('name')!,
          type,
          locations,
          ...(q.get('agent') ? { agent: q.get('agent')! } : {}),
          ...(q.get('scanner') ? { scanner: q.get('scanner')! } : {}),
          ...(q.get('language') ? { language: q.get('language')! } : {}),
        });
        // A new section starts its first scan by itself.
        void jobs.scan(id);
        return { status: 200, body: element('MediaContainer', { size: 1 }, [directory(runtime.library.section(id)!)]) };
      },
    },
    onSection('GET', /^\/library\/sections\/(\d+)$/, (section) => {
      return { status: 200, body: element('MediaContainer', { size: 1, librarySectionID: section.id, title1: section.name }, [directory(section)]) };
    }),
    {
      method: ['GET', 'POST', 'DELETE'],
      path: /^\/library\/sections\/(\d+|all)\/refresh$/,
      handle: (request) => {
        const all = request.params[0] === 'all';
        const section = all ? undefined : sectionOr404(request.params[0]);
        if (!all && !section) return invalid(request.params[0]);
        if (request.method === 'DELETE') {
          jobs.cancel(section?.id);
          return { status: 200, html: '' };
        }
        const force = request.query.get('force') === '1';
        const path = request.query.get('path') ?? undefined;
        const targets = section ? [section] : runtime.library.sections();
        for (const target of targets) {
          if (path !== undefined && !isScannablePath(runtime, target, path)) continue;
          void jobs.scan(target.id, { force, ...(path === undefined ? {} : { path: path.replace(/\/+$/, '') }) });
        }
        return { status: 200, html: '' };
      },
    },
    onSection('PUT', /^\/library\/sections\/(\d+)\/analyze$/, (section, request) => {
      void jobs.analyze(section.id, { force: request.query.get('force') === '1' });
      return { status: 200, html: '' };
    }),
    onSection('PUT', /^\/library\/sections\/(\d+)\/emptyTrash$/, (section) => {
      jobs.emptyTrash(section.id);
      return { status: 200, html: '' };
    }),
    onSection('GET', /^\/library\/sections\/(\d+)\/timeline$/, (section) => {
      return {
        status: 200,
        body: element('LibraryTimeline', {
          size: 0,
          allowSync: true,
          art: '/:/resources/movie-fanart.jpg',
          content: 'secondary',
          identifier: 'com.plexapp.plugins.library',
          latestEntryTime: section.contentChangedAt,
          mediaTagPrefix: '/system/bundle/media/flags/',
          mediaTagVersion: 1777730215,
          thumb: '/:/resources/movie.png',
          title1: section.name,
          updateQueueSize: jobs.metadata.queueSize(section.id),
          viewGroup: 'secondary',
          viewMode: 65592,
        }),
      };
    }),
    onSection('GET', /^\/library\/sections\/(\d+)\/all$/, (section, request) => {
      const type = request.query.get('type');
      const total = jobs.count(section.id, type && /^\d+$/.test(type) ? Number(type) : undefined);
      // Items themselves are not listed: plexlift only asks for counts (X-Plex-Container-Size=0).
      const size = Number(request.headers['x-plex-container-size'] ?? request.query.get('X-Plex-Container-Size') ?? 0);
      const start = Number(request.headers['x-plex-container-start'] ?? request.query.get('X-Plex-Container-Start') ?? 0);
      return {
        status: 200,
        body: element('MediaContainer', {
          size: Math.max(0, Math.min(size, total - start)),
          totalSize: total,
          offset: start,
          allowSync: true,
          librarySectionID: section.id,
          librarySectionTitle: section.name,
          title1: section.name,
        }),
      };
    }),
  ];
}

/**
 * `path=` must be a folder inside one of the section's locations (plex-api.md trap 10); PMS
 * logs what it skips and answers 200 all the same.
 */
function isScannablePath(runtime: SimRuntime, section: SectionRow, path: string): boolean {
  const clean = path.replace(/\/+$/, '');
  if (!section.locations.some((l) => clean === l.path || clean.startsWith(l.path + '/'))) {
    runtime.log.error(`'${path}' was not inside any known section location, skipping.`, 'scanner');
    return false;
  }
  try {
    if (!statSync(clean).isDirectory()) {
      runtime.log.error(`Failed to create iterator to "${clean}": Not a directory`, 'scanner');
      return false;
    }
  } catch {
    runtime.log.error(`Failed to create iterator to "${clean}": No such file or directory`, 'scanner');
    return false;
  }
  return true;
}
