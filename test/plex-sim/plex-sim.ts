import { closeSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import type { Server } from 'node:http';
import { Activities } from './activities.js';
import { analyzeSonic } from './analyzer.js';
import { Butler } from './butler.js';
import { dataDirPaths, prepareDataDir, type DataDirPaths } from './data-dir.js';
import { createPlexHttpServer, serverUrl, type Route } from './http-server.js';
import { LibraryDb } from './library-db.js';
import { LibraryJobs } from './library-jobs.js';
import { attachNotifications } from './notifications.js';
import { Notifier } from './notifier.js';
import { resolveOptions, type PlexSimFaults, type PlexSimOptions, type ResolvedPlexSimOptions } from './options.js';
import { PlexLog } from './plex-log.js';
import { ensureIdentity, readPreferences, writePreferences } from './preferences-file.js';
import { libraryRoutes } from './routes-library.js';
import { userStateRoutes } from './routes-user-state.js';
import { serverRoutes, type ServerState } from './routes-server.js';
import { createClock, type SimRuntime } from './runtime.js';
import { ServerPreferences } from './server-preferences.js';

export interface PlexSim extends AsyncDisposable {
  url: string;
  port: number;
  paths: DataDirPaths;
  options: ResolvedPlexSimOptions;
  runtime: SimRuntime;
  jobs: LibraryJobs;
  butler: Butler;
  /** Faults can be changed while it runs. */
  faults: PlexSimFaults;
  /** Resolves once `startState` is complete. */
  ready: Promise<void>;
  /** What SIGTERM does: stop work, put the Plex-only objects back, checkpoint, close. */
  stop(): Promise<void>;
  /** Overwrites a page of `media_parts` on disk, as a failing disk would. */
  corruptDatabase(): void;
}

/**
 * Starts the Plex Media Server double. Before listening it does what the image's first-run
 * script does (identity, claim exchange); then it serves the API at once while `startState`
 * stays `startingPlugins` for the start-up time, as PMS does.
 */
export async function startPlexSim(input: PlexSimOptions & { onCrash?: () => void }): Promise<PlexSim> {
  const options = resolveOptions(input);
  const paths = dataDirPaths(options.dataDir);
  const { installedDatabase } = prepareDataDir(paths);
  const clock = createClock(options);
  const log = new PlexLog(paths.log, clock.now, options.timeZone);
  log.info(`Plex Media Server v${options.version} - Docker Docker Container x86_64 - build: linux-x86_64 debian - GMT 00:00`);
  log.info(`Linux version: 6.1.0, language: en-US`);
  log.debug('BPQ: [Idle] -> [Starting]');
  if (installedDatabase) {
    log.debug(`Installing Library Database from ["/usr/lib/plexmediaserver/Resources/com.plexapp.plugins.library.db"] to ["${paths.mainDb}"]`);
  }
  ensureIdentity(paths.preferences, { transcodeDir: options.transcodeDir });
  await claim(options, paths, log);

  const preferences = new ServerPreferences(paths.preferences);
  const notifier = new Notifier();
  const activities = new Activities(notifier, log);
  const library = new LibraryDb(paths);
  log.debug('Opening 20 database sessions to library (com.plexapp.plugins.library), SQLite 3.39.4, threadsafe=1');
  let scanned = 0;
  const runtime: SimRuntime = {
    options,
    paths,
    log,
    library,
    notifier,
    activities,
    preferences,
    ...clock,
    itemScanned: () => {
      scanned += 1;
      if (options.faults.crashAfterItems !== undefined && scanned >= options.faults.crashAfterItems) {
        log.error('Received signal 9, exiting abruptly.');
        (input.onCrash ?? (() => process.kill(process.pid, 'SIGKILL')))();
      }
    },
  };
  const state: ServerState = { starting: true, account: await fetchAccount(options, preferences.token()) };
  const jobs = new LibraryJobs(runtime);
  const butler = new Butler(runtime, async (task, signal) => {
    if (task === 'MusicAnalysis') {
      const enabled = preferences.value('MusicAnalysisBehavior') !== 'never' && state.account?.subscriptionActive === true;
      if (!enabled) return 'Butler: Performed sonic analysis on 0 batches of albums.';
      const activity = activities.start({ type: 'media.generate.music.analysis', title: 'Sonic analysis', cancellable: true });
      signal.addEventListener('abort', () => activity.controller.abort(), { once: true });
      try {
        const tracks = await analyzeSonic(runtime, activity);
        return `Butler: Performed sonic analysis on ${Math.ceil(tracks / 12)} batches of albums.`;
      } catch (error) {
        if (activity.controller.signal.aborted) return 'Butler: sonic analysis was stopped.';
        throw error;
      } finally {
        activities.end(activity);
      }
    }
    const lines: Record<string, string> = {
      DeepMediaAnalysis: 'The butler performed deep analysis on 0 files',
      LoudnessAnalysis: 'The butler performed loudness analysis on 0 albums.',
      GenerateChapterThumbs: 'The butler generated chapter thumbnails for 0 files',
      OptimizeDatabase: 'Butler: optimized your database',
      ProcessAssets: 'The butler processed 0 assets.',
    };
    return lines[task];
  });

  const faults = options.faults;
  const routes: Route[] = [...serverRoutes(runtime, state, butler), ...libraryRoutes(runtime, state, jobs), ...userStateRoutes(runtime), ...controlRoutes()];
  const server: Server = createPlexHttpServer(runtime, routes, {
    faultStatus: (path) => {
      if (path.startsWith('/__plexsim/')) return undefined;
      if (path === '/identity' && faults.identityFailures > 0) {
        faults.identityFailures -= 1;
        return 503;
      }
      if (faults.errorBurst && faults.errorBurst.count > 0) {
        faults.errorBurst.count -= 1;
        return faults.errorBurst.status;
      }
      return undefined;
    },
  });
  const notifications = attachNotifications(server, runtime);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const url = serverUrl(server);
  const port = Number(new URL(url).port);
  log.debug(`HttpServer: Listening on port ${port}.`);
  log.debug('Running server...');
  writeFileSync(paths.pid, String(process.pid));

  const startUp = new AbortController();
  const ready = runtime.wait(options.timings.startUpMs, startUp.signal).then(
    () => {
      state.starting = false;
      log.debug('PluginRepository::setStartState: 3, complete');
      butler.scheduleWakeUp();
    },
    () => undefined,
  );

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      log.debug('Shutting down with signal 15 (Terminated)');
      startUp.abort();
      const butlerStopped = butler.close();
      jobs.cancel();
      for (const activity of activities.list()) activity.controller.abort();
      notifications.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      log.debug('Server stopped.');
      await Promise.all([jobs.idle().catch(() => undefined), butlerStopped]);
      if (faults.slowShutdownMs > 0) await new Promise((resolve) => setTimeout(resolve, faults.slowShutdownMs));
      library.close();
      log.debug('Database: Shutting down.');
      rmSync(paths.pid, { force: true });
    })());

  return {
    url,
    port,
    paths,
    options,
    runtime,
    jobs,
    butler,
    faults,
    ready,
    stop,
    [Symbol.asyncDispose]: stop,
    corruptDatabase: () => corrupt(runtime),
  };

  /** The double's own control API (not Plex's): faults and corruption for a running process. */
  function controlRoutes(): Route[] {
    return [
      {
        method: 'PUT',
        path: /^\/__plexsim\/faults$/,
        public: true,
        handle: (request) => {
          Object.assign(options.faults, JSON.parse(request.body || '{}') as Partial<PlexSimFaults>);
          return { status: 200, html: '' };
        },
      },
      {
        method: 'POST',
        path: /^\/__plexsim\/corrupt$/,
        public: true,
        handle: () => {
          corrupt(runtime);
          return { status: 200, html: '' };
        },
      },
    ];
  }
}

/** The first-run claim: a `PLEX_CLAIM` becomes `PlexOnlineToken`, unless a token is there already. */
async function claim(options: ResolvedPlexSimOptions, paths: DataDirPaths, log: PlexLog): Promise<void> {
  const preferences = readPreferences(paths.preferences);
  if (!options.claimToken || preferences.has('PlexOnlineToken')) return;
  if (!options.plexTvUrl) {
    log.error('MyPlex: cannot claim the server: no plex.tv address configured.');
    return;
  }
  const response = await fetch(`${options.plexTvUrl}/api/claim/exchange?token=${encodeURIComponent(options.claimToken)}`, {
    method: 'POST',
    headers: {
      'X-Plex-Client-Identifier': preferences.get('ProcessedMachineIdentifier') ?? '',
      'X-Plex-Product': 'Plex Media Server',
      'X-Plex-Version': options.version,
      'X-Plex-Provides': 'server',
      'X-Plex-Platform': 'Linux',
    },
  }).catch((error: unknown) => {
    log.error(`MyPlex: claim exchange failed: ${(error as Error).message}`);
    return undefined;
  });
  const token = response?.ok ? /<authentication-token>([^<]+)<\/authentication-token>/.exec(await response.text())?.[1] : undefined;
  if (!token) {
    log.error(`MyPlex: claim token was refused (HTTP ${response?.status ?? 'no answer'}); the server stays unclaimed.`);
    return;
  }
  preferences.set('PlexOnlineToken', token);
  writePreferences(paths.preferences, preferences);
  log.debug('MyPlex: server claimed.');
}

async function fetchAccount(options: ResolvedPlexSimOptions, token: string | undefined): Promise<ServerState['account']> {
  if (!token || !options.plexTvUrl) return undefined;
  const response = await fetch(`${options.plexTvUrl}/api/v2/user`, { headers: { 'X-Plex-Token': token, Accept: 'application/json' } }).catch(() => undefined);
  if (!response?.ok) return undefined;
  const user = (await response.json()) as { username: string; email: string; subscription?: { active?: boolean } };
  return { username: user.username, email: user.email, subscriptionActive: user.subscription?.active === true };
}

function corrupt(runtime: SimRuntime): void {
  const { library, paths } = runtime;
  const page = library.db.prepare(`SELECT pageno FROM dbstat WHERE name = 'media_parts' AND pagetype = 'leaf' LIMIT 1`).pluck().get() as number | undefined;
  library.db.pragma('wal_checkpoint(TRUNCATE)');
  const pageSize = library.db.pragma('page_size', { simple: true }) as number;
  const target = page ?? Math.max(2, Math.floor(statSync(paths.mainDb).size / pageSize / 2));
  const fd = openSync(paths.mainDb, 'r+');
  try {
    writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, (target - 1) * pageSize);
  } finally {
    closeSync(fd);
  }
  runtime.log.error('Database corruption: database disk image is malformed');
}
