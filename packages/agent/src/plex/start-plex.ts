import { setTimeout as sleep } from 'node:timers/promises';
import { PlexliftError } from '@plexlift/shared';
import { PlexClient, applyPreferences, waitForPlexReady, type PreferenceChange, type ReadinessStep } from '@plexlift/shared/plex-api';
import type { PlexRuntime } from './plex-runtime.js';
import { safePreferences } from './safe-preferences.js';

export interface StartPlexOptions {
  /** The home version: the cloud Plex must be exactly it (a newer one migrates the DB forward). */
  version: string;
  /** What Plex must see read-only at the same path (the media mount). */
  mediaPaths?: string[];
  claimToken?: string | undefined;
  /** Reads `PlexOnlineToken` once Plex has claimed itself (from its Preferences.xml). */
  readToken: () => string | undefined;
  timeZone: string;
  readyTimeoutMs: number;
  signal?: AbortSignal;
  onStep?: (step: ReadinessStep | 'preferences-set') => void;
  /** What Plex printed, when a failed start stopped it again (it tells why). */
  onStopped?: (output: string[] | undefined) => void;
}

export interface StartedPlex {
  client: PlexClient;
  machineIdentifier: string;
  preferences: PreferenceChange[];
}

/**
 * The plex-start phase's work: start the pinned version, claim, wait until it is fully ready,
 * check the version, set the safe preferences one by one and read them back. On any failure
 * Plex is stopped again, so nothing scans with unsafe settings.
 */
export async function startPlex(runtime: PlexRuntime, options: StartPlexOptions): Promise<StartedPlex> {
  const { url } = await runtime.start({
    version: options.version,
    mediaPaths: options.mediaPaths ?? [],
    claimToken: options.claimToken,
    timeZone: options.timeZone,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  try {
    const expectClaimed = options.claimToken !== undefined;
    // The image exchanges the claim before PMS starts, so once /identity answers the token is
    // in Preferences.xml; before that, /identity is all a tokenless client may ask.
    await waitForIdentity(new PlexClient({ url }), options.readyTimeoutMs, options.signal);
    const client = new PlexClient({ url, token: options.readToken() });
    const ready = await waitForPlexReady(client, { timeoutMs: options.readyTimeoutMs, intervalMs: 100, expectClaimed, ...stepHooks(options) });
    if (ready.version !== options.version) {
      throw new PlexliftError(
        'SAFETY_STOP',
        `Plex on the VM is ${ready.version} but home runs ${options.version}; a different version would migrate the library DB, so the job stops`,
        { details: { cloud: ready.version, home: options.version } },
      );
    }
    const preferences = await applyPreferences(client, safePreferences(new Date(), options.timeZone), options.signal);
    options.onStep?.('preferences-set');
    return { client, machineIdentifier: ready.machineIdentifier, preferences };
  } catch (error) {
    const { output } = await runtime.stop();
    options.onStopped?.(output);
    throw error;
  }
}

async function waitForIdentity(client: PlexClient, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    try {
      await client.identity(signal);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(100, undefined, signal ? { signal } : {});
    }
  }
}

function stepHooks(options: StartPlexOptions) {
  return { ...(options.signal ? { signal: options.signal } : {}), ...(options.onStep ? { onStep: options.onStep } : {}) };
}
