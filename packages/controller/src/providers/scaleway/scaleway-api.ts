import { Blockv1 } from '@scaleway/sdk-block';
import { createAdvancedClient, Errors, withHTTPClient, withProfile } from '@scaleway/sdk-client';
import { Instancev1 } from '@scaleway/sdk-instance';
import { Marketplacev2 } from '@scaleway/sdk-marketplace';
import { PlexliftError, type ScalewayProviderConfig } from '@plexlift/shared';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay, raceSignal, retry } from '@plexlift/shared/retry';

export interface ScalewayApis {
  instance: Instancev1.API;
  block: Blockv1.API;
  marketplace: Marketplacev2.API;
  zone: ScalewayProviderConfig['zone'];
  projectId: string | undefined;
  /** The API's address the calls go to (the config's, `SCW_API_URL`, else Scaleway's). */
  apiUrl: string;
}

export interface ScalewayApisOptions {
  /** Cuts every HTTP call in flight when it aborts (a bounded check): a call that hangs holds no socket open. */
  signal?: AbortSignal;
}

/**
 * The SDK's clients from the config, with the standard `SCW_*` environment variables filling what
 * the config leaves out (`SCW_API_URL` included). A malformed key is named here, before any call.
 */
export function createScalewayApis(config: ScalewayProviderConfig, env: NodeJS.ProcessEnv = process.env, options: ScalewayApisOptions = {}): ScalewayApis {
  // The standard variables of every Scaleway tool; the config wins where it says something.
  const profile = {
    ...definedOnly({
      accessKey: env.SCW_ACCESS_KEY,
      secretKey: env.SCW_SECRET_KEY,
      defaultProjectId: env.SCW_DEFAULT_PROJECT_ID,
      defaultOrganizationId: env.SCW_DEFAULT_ORGANIZATION_ID,
      apiURL: env.SCW_API_URL?.replace(/\/+$/, ''),
    }),
    ...(config.accessKey ? { accessKey: config.accessKey } : {}),
    ...(config.secretKey ? { secretKey: config.secretKey } : {}),
    ...(config.projectId ? { defaultProjectId: config.projectId } : {}),
    ...(config.apiUrl ? { apiURL: config.apiUrl.replace(/\/+$/, '') } : {}),
    defaultZone: config.zone,
  };
  // The SDK sends the secret key only beside its access key: alone, every call would be a 401.
  if (profile.secretKey && !profile.accessKey)
    throw new PlexliftError(
      'CONFIG_INVALID',
      "providers.scaleway.accessKey: missing; Scaleway's API takes the secret key only with the access key made with it (SCW…): set accessKey or SCW_ACCESS_KEY",
    );
  let client;
  try {
    const { signal } = options;
    client = createAdvancedClient(
      withProfile(profile),
      ...(signal ? [withHTTPClient((input, init) => fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal }))] : []),
    );
  } catch (error) {
    // The SDK's own check (key shapes, the API URL): said without the values.
    throw new PlexliftError(
      'CONFIG_INVALID',
      `providers.scaleway: ${(error as Error).message.replace(/[0-9a-f-]{36}|SCW[A-Z0-9]{17}/gi, '…')} (from the config or the SCW_* variables)`,
    );
  }
  return {
    instance: new Instancev1.API(client),
    block: new Blockv1.API(client),
    marketplace: new Marketplacev2.API(client),
    zone: config.zone,
    projectId: profile.defaultProjectId,
    // Always set once the SDK filled its defaults; its type leaves it optional.
    apiUrl: client.settings.apiURL ?? 'https://api.scaleway.com',
  };
}

function definedOnly<T extends Record<string, string | undefined>>(values: T): { [K in keyof T]?: string } {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value)) as { [K in keyof T]?: string };
}

export interface RetryPolicy {
  attempts: number;
  /** First wait; doubles each time, capped at 30 s. */
  baseMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseMs: 1_000 };
const MAX_WAIT_MS = 30_000;

/** A 404 from the API (any resource): "already gone" for a teardown. */
export function isNotFound(error: unknown): boolean {
  return error instanceof Errors.ScalewayError && error.status === 404;
}

/** The API's status behind an error `scalewayCall` mapped (412: a precondition, e.g. a volume still attached). */
export function apiStatus(error: unknown): number | undefined {
  const cause = error instanceof PlexliftError ? error.cause : error;
  return cause instanceof Errors.ScalewayError ? cause.status : undefined;
}

/** Worth trying again: the API's own outages, rate limits, transient states, and the network. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof Errors.TransientStateError || error instanceof Errors.TooManyRequestsError) return true;
  if (error instanceof Errors.ScalewayError) return error.status >= 500 && !(error instanceof Errors.OutOfStockError);
  return error instanceof TypeError; // fetch failed: connection refused, reset, DNS
}

/**
 * One API call, tried again with backoff when that can help; any failure comes out as a
 * PlexliftError that says what was being done, what the API said and what to do. An abort of
 * `signal` ends it at once with the signal's reason (the call in flight goes on unheard: every
 * resource is recorded, or findable by its name and tags, before it is created).
 */
export function scalewayCall<T>(what: string, call: () => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY, signal?: AbortSignal): Promise<T> {
  // A 404 comes out as it is: the caller decides what it means.
  return withRetries(call, policy, (error, attempts) => (isNotFound(error) ? (error as Error) : toCloudError(what, error, attempts)), signal);
}

/**
 * Runs `attempt` again, with backoff, after the failures `isRetryable` accepts, as long as the
 * policy allows; the last failure goes through `toError` with the number of attempts made. An
 * abort of `signal` cuts the attempt in flight and the wait, and rejects with its reason as it is.
 */
export async function withRetries<T>(
  attempt: () => Promise<T>,
  policy: RetryPolicy,
  toError: (error: unknown, attempts: number) => Error,
  signal?: AbortSignal,
): Promise<T> {
  let attempts = 0;
  try {
    return await retry(
      () => {
        attempts += 1;
        return raceSignal(attempt(), signal);
      },
      { backoff: { baseMs: policy.baseMs, maxMs: MAX_WAIT_MS }, retryIf: (error, failures) => failures < policy.attempts && isRetryable(error), signal },
    );
  } catch (error) {
    signal?.throwIfAborted();
    throw toError(error, attempts);
  }
}

/** Waits `ms`, or less when `signal` aborts: then rejects with its reason. */
export async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  await sleep(ms, undefined, signal ? { signal } : {}).catch((error: unknown) => {
    signal?.throwIfAborted();
    throw error;
  });
}

/**
 * The waits of a poll that may last (a server stuck in a transitional state): `baseMs`, doubling
 * up to 5 × `baseMs`, never past the deadline; `restart` when what is awaited changes.
 */
export function pollBackoff(baseMs: number, deadline: number): { next: () => number; restart: () => void } {
  let polls = 0;
  return {
    next: () => Math.max(0, Math.min(backoffDelay(polls++, { baseMs, maxMs: 5 * baseMs }), deadline - Date.now())),
    restart: () => {
      polls = 0;
    },
  };
}

export function toCloudError(what: string, error: unknown, attempts = 1): PlexliftError {
  if (error instanceof PlexliftError) return error;
  const tried = attempts > 1 ? ` (after ${attempts} attempts)` : '';
  if (error instanceof Errors.QuotasExceededError) {
    const resources = error.list.map((q) => `${q.resource} (quota ${q.quota}, in use ${q.current})`).join(', ');
    return new PlexliftError(
      'CLOUD_ERROR',
      `Scaleway: ${what}: quota exceeded${resources ? ` for ${resources}` : ''}; ask Scaleway for a higher quota (console → Organization → Quotas) or choose a smaller providers.scaleway.commercialType`,
      { cause: error },
    );
  }
  if (error instanceof Errors.OutOfStockError) {
    return new PlexliftError(
      'CLOUD_ERROR',
      `Scaleway: ${what}: ${error.resource || 'this type'} is out of stock in this zone; try another providers.scaleway.commercialType or providers.scaleway.zone, or later`,
      { cause: error },
    );
  }
  if (error instanceof Errors.DeniedAuthenticationError || error instanceof Errors.PermissionsDeniedError) {
    return new PlexliftError(
      'CONFIG_INVALID',
      `Scaleway: ${what}: the API refused the credentials (${error.rawMessage ?? error.message}); check providers.scaleway.secretKey / SCW_SECRET_KEY and its permissions (InstancesFullAccess, BlockStorageFullAccess)`,
      { cause: error },
    );
  }
  if (error instanceof Errors.InvalidArgumentsError) {
    return new PlexliftError('CONFIG_INVALID', `Scaleway: ${what}: ${error.message}`, { cause: error });
  }
  if (error instanceof Errors.ScalewayError) {
    const message =
      error.rawMessage ??
      (typeof error.body === 'string'
        ? error.body
            .replace(/<[^>]+>/g, ' ')
            .replace(/\s+/g, ' ')
            .trim()
        : error.message);
    return new PlexliftError('CLOUD_ERROR', `Scaleway: ${what}: HTTP ${error.status} ${message}${tried}`, { cause: error });
  }
  return new PlexliftError('CLOUD_ERROR', `Scaleway: ${what}: ${(error as Error).message}${tried}; is the API reachable from here?`, { cause: error });
}
