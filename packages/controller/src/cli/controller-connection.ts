import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { TRPCClientError } from '@trpc/client';
import { isErrorCode, PlexliftError, type Config } from '@plexlift/shared';
import { fingerprintOf } from '@plexlift/shared/tls';
import { createControllerClient, type ControllerClient } from '../client.js';
import { loadConfig } from '../config.js';
import { adminTokenPath } from '../daemon.js';
import { certificatePaths } from '../server/tls-certificate.js';

/**
 * The CLI's line to the daemon: `PLEXLIFT_URL`, `PLEXLIFT_TOKEN` and `PLEXLIFT_FINGERPRINT` when
 * set, else the config's port on loopback, its admin token file and its certificate's fingerprint.
 */
export function connectController(configPath: string | undefined, env: NodeJS.ProcessEnv = process.env): ControllerClient {
  const { config } = loadConfig({ path: configPath, env });
  const url = env.PLEXLIFT_URL ?? `${config.server.tls.enabled ? 'https' : 'http'}://127.0.0.1:${config.server.port}`;
  const fingerprint = url.startsWith('https:') ? (env.PLEXLIFT_FINGERPRINT ?? daemonFingerprint(config)) : undefined;
  let token = env.PLEXLIFT_TOKEN;
  if (!token) {
    const path = adminTokenPath(config);
    try {
      token = readFileSync(path, 'utf8').trim();
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
  return createControllerClient({ url, token, ...(fingerprint ? { fingerprint } : {}) });
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
 * Runs `work` with a client of the daemon named by the command's config, closes the client after,
 * and turns a failed call into the PlexliftError it was (so the CLI exits with its status).
 */
export async function withController<T>(command: Command, work: (client: ControllerClient) => Promise<T>): Promise<T> {
  const client = connectController(command.optsWithGlobals<{ config?: string }>().config);
  try {
    return await work(client);
  } catch (error) {
    throw fromControllerError(error);
  } finally {
    await client.close();
  }
}

/** A failed call as the PlexliftError it was on the daemon (so the CLI exits with its status). */
export function fromControllerError(error: unknown, url = 'the daemon'): PlexliftError {
  if (error instanceof PlexliftError) return error;
  if (error instanceof TRPCClientError) {
    const data = error.data as { code?: string; plexliftCode?: string } | undefined;
    if (data?.plexliftCode && isErrorCode(data.plexliftCode)) return new PlexliftError(data.plexliftCode, error.message);
    if (data?.code === 'UNAUTHORIZED') return new PlexliftError('AUTH_REFUSED', `${url} refused the admin token (server.adminTokenFile or PLEXLIFT_TOKEN)`);
    if (data?.code === 'NOT_FOUND' || data?.code === 'BAD_REQUEST') return new PlexliftError('BAD_ARGUMENT', error.message);
    if (!data) return new PlexliftError('CONTROLLER_UNREACHABLE', `cannot reach ${url}: ${error.message}; is plexlift serve running?`);
  }
  return new PlexliftError('UNEXPECTED', (error as Error).message, { cause: error });
}
