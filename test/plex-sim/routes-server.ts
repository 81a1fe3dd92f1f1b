import type { Butler } from './butler.js';
import { htmlError, type Route } from './http-server.js';
import type { SimRuntime } from './runtime.js';
import { findSetting } from './server-settings.js';
import { element } from './xml.js';
import { activityElement } from './activities.js';

export interface ServerState {
  starting: boolean;
  account: { username: string; email: string; subscriptionActive: boolean } | undefined;
}

const ROOT_DIRECTORIES = [
  'actions',
  'activities',
  'butler',
  'channels',
  'clients',
  'devices',
  'diagnostics',
  'downloadQueue',
  'hubs',
  'library',
  'livetv',
  'media',
  'neighborhood',
  'playQueues',
  'playlists',
  'resources',
  'search',
  'server',
  'servers',
  'service',
  'statistics',
  'system',
  'transcode',
  'updater',
  'user',
];
const THREE = new Set(['library', 'livetv', 'media']);

/** `/identity`, `/`, `/:/prefs`, `/activities`, `/butler`, `/myplex/account`, `/accounts`, `/servers`. */
export function serverRoutes(runtime: SimRuntime, state: ServerState, butler: Butler): Route[] {
  const machine = () => runtime.preferences.file().get('ProcessedMachineIdentifier') ?? '';
  const claimed = () => runtime.preferences.token() !== undefined;
  return [
    {
      method: 'GET',
      path: /^\/identity$/,
      public: true,
      handle: () => ({
        status: 200,
        body: element('MediaContainer', { size: 0, apiVersion: '1.2.2', claimed: claimed(), machineIdentifier: machine(), version: runtime.options.version }),
      }),
    },
    {
      method: 'GET',
      path: /^\/$/,
      handle: () => ({
        status: 200,
        body: element(
          'MediaContainer',
          {
            size: ROOT_DIRECTORIES.length,
            allowCameraUpload: false,
            allowChannelAccess: true,
            allowMediaDeletion: true,
            allowSharing: true,
            allowSync: false,
            allowTuners: true,
            apiVersion: '1.2.2',
            backgroundProcessing: true,
            companionProxy: true,
            countryCode: '',
            diagnostics: 'logs,databases,streaminglogs',
            eventStream: true,
            friendlyName: runtime.preferences.value('FriendlyName') || 'plex-sim',
            hubSearch: true,
            itemClusters: true,
            livetv: 7,
            machineIdentifier: machine(),
            mediaProviders: true,
            multiuser: true,
            musicAnalysis: 2,
            myPlex: true,
            myPlexMappingState: 'mapped',
            myPlexSigninState: claimed() ? 'ok' : 'none',
            myPlexSubscription: state.account?.subscriptionActive ?? false,
            myPlexUsername: state.account?.username,
            ownerFeatures: 'adaptive_bitrate,collections',
            platform: 'Linux',
            platformVersion: '6.1.0',
            pluginHost: true,
            pushNotifications: false,
            readOnlyLibraries: false,
            startState: state.starting ? 'startingPlugins' : undefined,
            streamingBrainABRVersion: 3,
            streamingBrainVersion: 2,
            sync: true,
            transcoderActiveVideoSessions: 0,
            transcoderAudio: true,
            transcoderLyrics: true,
            transcoderPhoto: true,
            transcoderSubtitles: true,
            transcoderVideo: true,
            transcoderVideoBitrates: '64,96,208,320,720,1500,2000,3000,4000,8000,10000,12000,20000',
            transcoderVideoQualities: '0,1,2,3,4,5,6,7,8,9,10,11,12',
            transcoderVideoResolutions: '128,128,160,240,320,480,768,720,720,1080,1080,1080,1080',
            updatedAt: runtime.epoch(),
            updater: true,
            version: runtime.options.version,
            voiceSearch: true,
          },
          ROOT_DIRECTORIES.map((key) => element('Directory', { count: THREE.has(key) ? 3 : 1, key, title: key })),
        ),
      }),
    },
    {
      method: 'GET',
      path: /^\/:\/prefs$/,
      handle: () => {
        if (state.starting) return htmlError(503);
        const settings = runtime.preferences.all();
        return {
          status: 200,
          body: element(
            'MediaContainer',
            { size: settings.length },
            settings.map(({ setting, value }) =>
              element('Setting', {
                id: setting.id,
                label: setting.label,
                summary: '',
                type: setting.type,
                default: setting.default,
                value,
                hidden: setting.hidden ?? false,
                advanced: setting.advanced ?? false,
                group: setting.group,
                enumValues: setting.enumValues,
              }),
            ),
          ),
        };
      },
    },
    {
      method: 'GET',
      path: /^\/:\/prefs\/get$/,
      handle: (request) => {
        const setting = findSetting(request.query.get('id') ?? '');
        if (!setting) return htmlError(404);
        const value = runtime.preferences.value(setting.id);
        return {
          status: 200,
          body: element('MediaContainer', { size: 1 }, [element('Setting', { id: setting.id, type: setting.type, default: setting.default, value })]),
        };
      },
    },
    {
      method: 'PUT',
      path: /^\/:\/prefs$/,
      handle: (request) => {
        const changes = [...request.query].filter(([name]) => !name.startsWith('X-Plex-'));
        if (changes.length === 0) return htmlError(400);
        // Validated as a whole: one unknown id and nothing is written (PMS answers 400).
        const problem = runtime.preferences.set(changes);
        if (problem) {
          runtime.log.warn(problem.message, 'http');
          return { status: 400, html: `<html><head><title>Bad Request</title></head><body><h1>400 Bad Request</h1><p>${problem.message}</p></body></html>` };
        }
        for (const [id] of changes) runtime.log.debug(`Preference ${id} set.`, 'http');
        return { status: 200, html: '' };
      },
    },
    {
      method: 'GET',
      path: /^\/activities$/,
      handle: () => {
        const activities = runtime.activities.list();
        return { status: 200, body: element('MediaContainer', { size: activities.length }, activities.map(activityElement)) };
      },
    },
    {
      method: 'DELETE',
      path: /^\/activities\/([^/]+)$/,
      handle: (request) => {
        const activity = runtime.activities.get(request.params[0]!);
        if (!activity) return htmlError(404);
        if (!activity.cancellable) return htmlError(400);
        activity.controller.abort();
        return { status: 200, html: '' };
      },
    },
    { method: 'GET', path: /^\/butler$/, handle: () => ({ status: 200, body: butler.tasksElement() }) },
    {
      method: ['POST', 'DELETE'],
      path: /^\/butler$/,
      handle: (request) => {
        if (request.method === 'POST') butler.startAll();
        else butler.stop();
        return { status: 200, html: '' };
      },
    },
    {
      method: ['POST', 'DELETE'],
      path: /^\/butler\/([^/]+)$/,
      handle: (request) => {
        const name = request.params[0]!;
        if (request.method === 'DELETE') return butler.stop(name) ? { status: 200, html: '' } : htmlError(404);
        const status = butler.start(name);
        return status === 404 ? htmlError(404) : { status, html: '' };
      },
    },
    {
      method: 'GET',
      path: /^\/myplex\/account$/,
      handle: () => {
        const account = state.account;
        return {
          status: 200,
          body: element('MyPlex', {
            authToken: claimed() ? runtime.preferences.token() : undefined,
            username: account?.username ?? '',
            mappingState: 'mapped',
            mappingError: '',
            signInState: claimed() ? 'ok' : 'none',
            publicAddress: '127.0.0.1',
            publicPort: runtime.options.port,
            privateAddress: '127.0.0.1',
            privatePort: runtime.options.port,
            subscriptionFeatures: account?.subscriptionActive ? 'sonic-analysis,music-analysis' : '',
            subscriptionActive: account?.subscriptionActive ?? false,
            subscriptionState: account?.subscriptionActive ? 'Active' : 'Unknown',
          }),
        };
      },
    },
    {
      method: 'GET',
      path: /^\/accounts$/,
      handle: () => ({
        status: 200,
        body: element('MediaContainer', { size: 1, identifier: 'com.plexapp.system.accounts' }, [
          element('Account', {
            id: 1,
            key: '/accounts/1',
            name: state.account?.username ?? 'Administrator',
            defaultAudioLanguage: 'C.',
            autoSelectAudio: false,
            defaultSubtitleLanguage: 'C.',
            subtitleMode: 0,
            thumb: '',
          }),
        ]),
      }),
    },
    {
      method: 'GET',
      path: /^\/servers$/,
      handle: () => ({
        status: 200,
        body: element('MediaContainer', { size: 1 }, [
          element('Server', {
            name: 'plex-sim',
            host: '127.0.0.1',
            address: '127.0.0.1',
            port: runtime.options.port,
            machineIdentifier: machine(),
            version: runtime.options.version,
          }),
        ]),
      }),
    },
  ];
}
