import type { z } from 'zod';
import { PlexliftError } from '../errors.js';
import {
  AccountSchema,
  ActivitiesSchema,
  ButlerTasksSchema,
  CountSchema,
  IdentitySchema,
  PlaylistsSchema,
  PrefsSchema,
  RootSchema,
  SectionsSchema,
  TimelineSchema,
  type PlexActivity,
  type PlexSection,
  type PlexSetting,
} from './plex-api-schemas.js';

export interface PlexClientOptions {
  /** Base URL, e.g. `http://127.0.0.1:32400`. */
  url: string;
  /** `X-Plex-Token`; sent as a header, never in a URL, never in an error. */
  token?: string | undefined;
  clientIdentifier?: string;
  /** Per request. @default 30_000 */
  timeoutMs?: number;
}

interface RequestOptions {
  query?: Record<string, string | number | boolean | string[] | undefined>;
  signal?: AbortSignal | undefined;
  /** Statuses that are an answer, not an error (e.g. 202 for a running Butler task). */
  accept?: number[];
}

/**
 * A client of the PMS HTTP API for what plexlift drives: JSON always (`Accept`), the token in
 * a header, every reply checked against its status and shape. Parameters go in the query
 * string, as PMS wants them even for PUT and POST (plex-api.md §2.3, §3.2).
 */
export class PlexClient {
  readonly url: string;
  private readonly token: string | undefined;
  private readonly clientIdentifier: string;
  private readonly timeoutMs: number;

  constructor(options: PlexClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.token = options.token;
    this.clientIdentifier = options.clientIdentifier ?? 'plexlift';
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  withToken(token: string | undefined): PlexClient {
    return new PlexClient({ url: this.url, token, clientIdentifier: this.clientIdentifier, timeoutMs: this.timeoutMs });
  }

  async identity(signal?: AbortSignal) {
    return (await this.json('GET', '/identity', IdentitySchema, { signal })).MediaContainer;
  }

  async root(signal?: AbortSignal) {
    return (await this.json('GET', '/', RootSchema, { signal })).MediaContainer;
  }

  async preferences(signal?: AbortSignal): Promise<PlexSetting[]> {
    return (await this.json('GET', '/:/prefs', PrefsSchema, { signal })).MediaContainer.Setting;
  }

  /** One preference per request, so a refusal names exactly one id (plex-api.md, Traps: an unknown id gets 400/403). */
  async setPreference(id: string, value: boolean | number | string, signal?: AbortSignal): Promise<void> {
    await this.send('PUT', '/:/prefs', { query: { [id]: typeof value === 'boolean' ? (value ? '1' : '0') : String(value) }, signal });
  }

  async sections(signal?: AbortSignal): Promise<PlexSection[]> {
    return (await this.json('GET', '/library/sections', SectionsSchema, { signal })).MediaContainer.Directory;
  }

  async createSection(
    input: { name: string; type: string; agent: string; scanner: string; language: string; locations: string[] },
    signal?: AbortSignal,
  ): Promise<PlexSection> {
    const reply = await this.json('POST', '/library/sections', SectionsSchema, {
      query: { name: input.name, type: input.type, agent: input.agent, scanner: input.scanner, language: input.language, location: input.locations },
      signal,
    });
    const section = reply.MediaContainer.Directory[0];
    if (!section) throw new PlexliftError('PLEX_API_ERROR', `Plex did not return the section "${input.name}" it created`);
    return section;
  }

  /** A scan (`force` = refresh all metadata); `path` must be a folder inside a location. */
  async refresh(section: string, options: { force?: boolean; path?: string } = {}, signal?: AbortSignal): Promise<void> {
    await this.send('GET', `/library/sections/${section}/refresh`, { query: { force: options.force ? 1 : undefined, path: options.path }, signal });
  }

  async cancelRefresh(section: string, signal?: AbortSignal): Promise<void> {
    await this.send('DELETE', `/library/sections/${section}/refresh`, { signal });
  }

  async analyze(section: string, signal?: AbortSignal): Promise<void> {
    await this.send('PUT', `/library/sections/${section}/analyze`, { signal });
  }

  async emptyTrash(section: string, signal?: AbortSignal): Promise<void> {
    await this.send('PUT', `/library/sections/${section}/emptyTrash`, { signal });
  }

  async updateQueueSize(section: string, signal?: AbortSignal): Promise<number> {
    return (await this.json('GET', `/library/sections/${section}/timeline`, TimelineSchema, { signal })).LibraryTimeline.updateQueueSize;
  }

  /** Items of `type` in a section, without listing them (`X-Plex-Container-Size=0`). */
  async count(section: string, type: number, signal?: AbortSignal): Promise<number> {
    const reply = await this.json('GET', `/library/sections/${section}/all`, CountSchema, {
      query: { type, 'X-Plex-Container-Start': 0, 'X-Plex-Container-Size': 0 },
      signal,
    });
    return reply.MediaContainer.totalSize;
  }

  async activities(signal?: AbortSignal): Promise<PlexActivity[]> {
    return (await this.json('GET', '/activities', ActivitiesSchema, { signal })).MediaContainer.Activity;
  }

  async butlerTasks(signal?: AbortSignal) {
    return (await this.json('GET', '/butler', ButlerTasksSchema, { signal })).ButlerTasks.ButlerTask;
  }

  /** Starts a Butler task after checking its name exists (plex-api.md, Traps: task names vary by version). */
  async startButlerTask(name: string, signal?: AbortSignal): Promise<'started' | 'already running'> {
    const tasks = await this.butlerTasks(signal);
    if (!tasks.some((t) => t.name === name)) {
      throw new PlexliftError('PLEX_API_ERROR', `Plex has no Butler task "${name}" (it has: ${tasks.map((t) => t.name).join(', ')})`);
    }
    const status = await this.send('POST', `/butler/${encodeURIComponent(name)}`, { accept: [200, 202], signal });
    return status === 202 ? 'already running' : 'started';
  }

  async account(signal?: AbortSignal) {
    return (await this.json('GET', '/myplex/account', AccountSchema, { signal })).MyPlex;
  }

  /**
   * A playlist of library items, in order (`POST /playlists` with a `server://` uri naming this
   * server and the items' rating keys); returns its rating key.
   */
  async createPlaylist(
    input: { title: string; type: 'video' | 'audio' | 'photo'; machineIdentifier: string; itemIds: number[] },
    signal?: AbortSignal,
  ): Promise<string> {
    const uri = `server://${input.machineIdentifier}/com.plexapp.plugins.library/library/metadata/${input.itemIds.join(',')}`;
    const reply = await this.json('POST', '/playlists', PlaylistsSchema, { query: { type: input.type, title: input.title, smart: 0, uri }, signal });
    const playlist = reply.MediaContainer.Metadata[0];
    if (!playlist) throw new PlexliftError('PLEX_API_ERROR', `Plex did not return the playlist "${input.title}" it created`);
    return playlist.ratingKey;
  }

  private async json<S extends z.ZodType>(method: string, path: string, schema: S, options: RequestOptions): Promise<z.output<S>> {
    const { body } = await this.fetch(method, path, options);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new PlexliftError('PLEX_API_ERROR', `Plex answered ${method} ${path} with something that is not JSON`);
    }
    const result = schema.safeParse(parsed);
    if (!result.success) {
      throw new PlexliftError(
        'PLEX_API_ERROR',
        `Plex answered ${method} ${path} in an unexpected shape: ${result.error.issues[0]?.path.join('.') ?? ''} ${result.error.issues[0]?.message ?? ''}`,
      );
    }
    return result.data;
  }

  private async send(method: string, path: string, options: RequestOptions): Promise<number> {
    return (await this.fetch(method, path, options)).status;
  }

  private async fetch(method: string, path: string, options: RequestOptions): Promise<{ status: number; body: string }> {
    const url = new URL(this.url + path);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(name, String(item));
    }
    const headers: Record<string, string> = { Accept: 'application/json', 'X-Plex-Client-Identifier': this.clientIdentifier, 'X-Plex-Product': 'plexlift' };
    if (this.token) headers['X-Plex-Token'] = this.token;
    const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(this.timeoutMs)]) : AbortSignal.timeout(this.timeoutMs);
    let response: Response;
    for (let attempt = 1; ; attempt++) {
      try {
        response = await fetch(url, { method, headers, signal });
        break;
      } catch (error) {
        options.signal?.throwIfAborted();
        const cause = (error as Error).cause as NodeJS.ErrnoException | undefined;
        // A kept-alive connection Plex closed as we reused it: a GET is safe to send once more.
        if (method === 'GET' && attempt === 1 && (cause?.code === 'ECONNRESET' || cause?.code === 'UND_ERR_SOCKET') && !signal.aborted) continue;
        throw new PlexliftError(
          'PLEX_NOT_READY',
          `Plex at ${this.url} did not answer ${method} ${path}: ${cause instanceof Error ? cause.message : (error as Error).message}`,
          { cause: error },
        );
      }
    }
    const body = await response.text();
    const accepted = options.accept ?? [200];
    if (response.status === 401) {
      throw new PlexliftError(
        'PLEX_UNAUTHORIZED',
        `Plex at ${this.url} refused ${this.token ? 'the token' : 'a request without a token'} (HTTP 401 on ${method} ${path})`,
      );
    }
    if (!accepted.includes(response.status)) {
      const detail = /<p>([^<]+)<\/p>/.exec(body)?.[1] ?? (body.length < 200 && !body.startsWith('<') ? body : '');
      throw new PlexliftError('PLEX_API_ERROR', `Plex answered ${method} ${path} with HTTP ${response.status}${detail ? `: ${detail}` : ''}`, {
        details: { status: response.status, path },
      });
    }
    return { status: response.status, body };
  }
}
