import { setTimeout as sleep } from 'node:timers/promises';
import { PlexliftError, isPlexliftError } from '../errors.js';
import type { PlexClient } from './plex-client.js';

export interface ReadinessOptions {
  /** Give up after this long. */
  timeoutMs: number;
  /** Between attempts. @default 1_000 */
  intervalMs?: number;
  /** Require `claimed` in `/identity` (the server was started with a claim token). */
  expectClaimed?: boolean;
  signal?: AbortSignal;
  /** Called when the wait moves to its next condition. */
  onStep?: (step: ReadinessStep) => void;
}

export type ReadinessStep = 'identity' | 'claimed' | 'started' | 'preferences' | 'ready';

/**
 * Waits until Plex is really ready for library work, not just answering (plex-api.md §1.3):
 * `/identity` answers (connection errors and 5xx are retried), it is claimed when a claim was
 * expected, `/` no longer says `startState`, and `/:/prefs` answers.
 */
export async function waitForPlexReady(client: PlexClient, options: ReadinessOptions): Promise<{ machineIdentifier: string; version: string }> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 1_000;
  let step: ReadinessStep = 'identity';
  let lastProblem: string;
  options.onStep?.(step);
  // Steps only move forward: a later poll that starts again from /identity is not news.
  const advance = (next: ReadinessStep) => {
    if (STEPS.indexOf(next) <= STEPS.indexOf(step)) return;
    step = next;
    options.onStep?.(step);
  };
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const identity = await client.identity(options.signal);
      advance('claimed');
      if (options.expectClaimed && !identity.claimed) throw new NotYet('the server is not claimed yet');
      advance('started');
      const root = await client.root(options.signal);
      if (root.startState) throw new NotYet(`startState is ${root.startState}`);
      if (root.myPlexMappingState && !['mapped', 'unknown'].includes(root.myPlexMappingState.toLowerCase()) && options.expectClaimed) {
        throw new NotYet(`myPlexMappingState is ${root.myPlexMappingState}`);
      }
      advance('preferences');
      await client.preferences(options.signal);
      advance('ready');
      return { machineIdentifier: identity.machineIdentifier, version: identity.version };
    } catch (error) {
      if (isPlexliftError(error, 'PLEX_UNAUTHORIZED')) throw error;
      if (!(error instanceof NotYet) && !isPlexliftError(error)) throw error;
      lastProblem = error.message;
    }
    if (Date.now() + interval > deadline) {
      throw new PlexliftError(
        'PLEX_NOT_READY',
        `Plex at ${client.url} was not ready after ${Math.round(options.timeoutMs / 1000)} s (waiting for ${step}: ${lastProblem})`,
        {
          details: { step },
        },
      );
    }
    await sleep(interval, undefined, options.signal ? { signal: options.signal } : {});
  }
}

const STEPS: ReadinessStep[] = ['identity', 'claimed', 'started', 'preferences', 'ready'];

class NotYet extends Error {}
