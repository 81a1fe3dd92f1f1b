import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { TRPCClientError } from '@trpc/client';
import { isErrorCode, isPlexliftError, PlexliftError, type Config } from '@plexlift/shared';
import { fingerprintOf } from '@plexlift/shared/tls';
import { createControllerClient, type ControllerClient } from '../client.js';
import { loadConfig } from '../config.js';
import { adminTokenPath } from '../daemon.js';
import { certificatePaths } from '../server/tls-certificate.js';
import { profilePath, readProfile, type CliProfile } from './cli-profile.js';

/** Where the CLI's calls go, with what, and what to tell the user when the daemon refuses them. */
interface DaemonTarget {
  url: string;
  token: string;
  fingerprint: string | undefined;
  /** Where the token came from, and what to do when it is refused. */
  tokenHint: string;
  /** What to do when the daemon shows another certificate than the pinned one. */
  certificateHint: string;
}

/**
 * The daemon the CLI talks to, by precedence: `PLEXLIFT_URL` (with `PLEXLIFT_TOKEN` and
 * `PLEXLIFT_FINGERPRINT`, else the local config's token file and certificate); a config named by
 * `--config` or `PLEXLIFT_CONFIG`; the user's profile (`plexlift login`; the two variables
 * override its token and fingerprint); else the local config: its port on loopback, its admin
 * token file and its certificate's fingerprint.
 */
function resolveDaemonTarget(configPath: string | undefined, env: NodeJS.ProcessEnv): DaemonTarget {
  const isConfigNamed = (configPath ?? env.PLEXLIFT_CONFIG) !== undefined;
  if (!env.PLEXLIFT_URL && !isConfigNamed) {
    const profile = readProfile(env);
    if (profile) return profileTarget(profile, env);
  }
  const { config } = loadConfig({ path: configPath, env });
  const url = env.PLEXLIFT_URL ?? `${config.server.tls.enabled ? 'https' : 'http'}://127.0.0.1:${config.server.port}`;
  const fingerprint = url.startsWith('https:') ? (env.PLEXLIFT_FINGERPRINT ?? daemonFingerprint(config)) : undefined;
  return {
    url,
    token: env.PLEXLIFT_TOKEN ?? readConfigToken(config),
    fingerprint,
    tokenHint: 'server.adminTokenFile or PLEXLIFT_TOKEN',
    certificateHint: "check PLEXLIFT_FINGERPRINT against the daemon's log (its first lines)",
  };
}

/** The profile's daemon: never sent another token than the one given at login, or PLEXLIFT_TOKEN. */
function profileTarget(profile: CliProfile, env: NodeJS.ProcessEnv): DaemonTarget {
  const path = profilePath(env);
  const again = `plexlift login ${profile.url}`;
  let token = env.PLEXLIFT_TOKEN ?? profile.token;
  if (token === undefined) {
    try {
      token = readFileSync(profile.tokenFile!, 'utf8').trim();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new PlexliftError(
        'CONFIG_INVALID',
        `the admin token file ${profile.tokenFile} of your profile (${path}) cannot be read (${code}); run ${again} again`,
      );
    }
  }
  return {
    url: profile.url,
    token,
    fingerprint: profile.url.startsWith('https:') ? (env.PLEXLIFT_FINGERPRINT ?? profile.fingerprint) : undefined,
    tokenHint: `the token of your profile ${path}; run ${again} again`,
    certificateHint: `if the daemon got a new certificate since plexlift login and you trust it, run ${again} again`,
  };
}

/** The config's admin token file, or what to do when it cannot be read. */
function readConfigToken(config: Config): string {
  const path = adminTokenPath(config);
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (error) {
    // No token file: the daemon has never started with this config (it writes the file).
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new PlexliftError(
        'CONTROLLER_UNREACHABLE',
        `the daemon has not started with this config (no admin token at ${path}); start it with plexlift serve`,
      );
    }
    throw new PlexliftError(
      'CONFIG_INVALID',
      `server.adminTokenFile: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); run as a user who can, or set PLEXLIFT_TOKEN`,
    );
  }
}

/** The fingerprint of the daemon's own certificate file, read where the daemon keeps it. */
function daemonFingerprint(config: Config): string | undefined {
  if (!config.server.tls.enabled) return undefined;
  const { certPath } = certificatePaths(config);
  let pem: string;
  try {
    pem = readFileSync(certPath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Not made yet: the daemon has never run, which the connection itself will say.
    if (code === 'ENOENT') return undefined;
    throw new PlexliftError(
      'CONFIG_INVALID',
      `server.tls: cannot read the daemon's certificate ${certPath} (${code ?? (error as Error).message}); run as a user who can, or set PLEXLIFT_FINGERPRINT`,
    );
  }
  return fingerprintOf(pem);
}

/**
 * Runs `work` with a client of the daemon named by the command's config (or the user's profile),
 * closes the client after, and turns a failed call into the PlexliftError it was (so the CLI exits
 * with its status).
 */
export async function withController<T>(command: Command, work: (client: ControllerClient, daemon: { url: string }) => Promise<T>): Promise<T> {
  const target = resolveDaemonTarget(command.optsWithGlobals<{ config?: string }>().config, process.env);
  const client = createControllerClient({ url: target.url, token: target.token, ...(target.fingerprint ? { fingerprint: target.fingerprint } : {}) });
  try {
    return await work(client, { url: target.url });
  } catch (error) {
    throw fromControllerError(error, target);
  } finally {
    await client.close();
  }
}

/** What `fromControllerError` says of the daemon and its refusals. */
type RefusalHints = Partial<Pick<DaemonTarget, 'url' | 'tokenHint' | 'certificateHint'>>;

/** A failed call as the PlexliftError it was on the daemon (so the CLI exits with its status). */
export function fromControllerError(error: unknown, hints: RefusalHints = {}): PlexliftError {
  const url = hints.url ?? 'the daemon';
  if (error instanceof PlexliftError) return error;
  // A pinned connection that met another certificate: fetch says only "fetch failed", its cause why.
  const pinned = pinMismatchIn(error);
  if (pinned) return new PlexliftError('AUTH_REFUSED', `${pinned.message}; ${hints.certificateHint ?? 'check the fingerprint you gave'}`, { cause: error });
  if (error instanceof TRPCClientError) {
    const data = error.data as { code?: string; plexliftCode?: string } | undefined;
    if (data?.plexliftCode && isErrorCode(data.plexliftCode)) return new PlexliftError(data.plexliftCode, error.message);
    if (data?.code === 'UNAUTHORIZED')
      return new PlexliftError('AUTH_REFUSED', `${url} refused the admin token (${hints.tokenHint ?? 'server.adminTokenFile or PLEXLIFT_TOKEN'})`);
    if (data?.code === 'NOT_FOUND' || data?.code === 'BAD_REQUEST') return new PlexliftError('BAD_ARGUMENT', error.message);
    if (!data) return new PlexliftError('CONTROLLER_UNREACHABLE', `cannot reach ${url}: ${error.message}; is plexlift serve running?`);
  }
  return new PlexliftError('UNEXPECTED', (error as Error).message, { cause: error });
}

/** The pin's refusal (an AUTH_REFUSED PlexliftError) somewhere in `error`'s causes. */
function pinMismatchIn(error: unknown): PlexliftError | undefined {
  for (let cause: unknown = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    if (isPlexliftError(cause, 'AUTH_REFUSED')) return cause;
  }
  return undefined;
}
