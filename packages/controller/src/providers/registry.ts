import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { PROVIDER_NAMES, type Config, type ProviderName } from '@plexlift/shared';
import { checkDockerProvider, createDockerProvider } from './docker-provider.js';
import { createLocalProvider } from './local-provider.js';
import type { Provider } from './provider.js';

/** What plexlift knows of a provider besides the provider itself. */
export interface ProviderEntry {
  /** Its machines call home across the internet, so `server.publicUrl` must say where home is. */
  isCloud: boolean;
  /** The provider built from its section of the config; undefined when the config has none. */
  create: (config: Config) => Provider | undefined | Promise<Provider | undefined>;
  /** `plexlift doctor`'s check of the config: what it found, or an error that says what to fix. Changes nothing. */
  check: (config: Config) => string | Promise<string>;
  /** `plexlift doctor`'s call to the cloud's API (after `check` passed), given up after `timeoutMs`. Changes nothing. */
  checkApi?: (config: Config, timeoutMs: number) => Promise<string>;
}

/** How long doctor waits for a cloud's API, retries included. */
const API_CHECK_TIMEOUT_MS = 10_000;

/** Where agents get their work folders when the provider's section does not say. */
const agentsDir = (config: Config, workDir: string | undefined) => workDir ?? join(config.server.stateDir, 'agents');

/**
 * Every provider, by the names of `PROVIDER_NAMES` (a missing one fails to compile). A new
 * provider is its name there, its config section in shared's config schema, its module here
 * (`<name>-provider.ts`, or a `<name>/` folder when it has several parts) and an entry below.
 */
export const PROVIDERS = {
  local: {
    isCloud: false,
    create: (config) => {
      const local = config.providers.local;
      return local && createLocalProvider({ workRoot: agentsDir(config, local.workDir), plexCommand: local.plexCommand, tuningFile: local.tuningFile });
    },
    check: (config) => {
      const local = config.providers.local;
      if (!local) throw new Error('providers.local: missing; set providers.local.plexCommand');
      if (process.getuid?.() !== 0) throw new Error('the local provider needs root (a private mount namespace for the agent)');
      const [command] = local.plexCommand;
      if (!command || !isExecutable(command)) throw new Error(`providers.local.plexCommand: ${command ?? '(empty)'} is not a program this machine can run`);
      return `Plex command ${command}`;
    },
  },
  docker: {
    isCloud: false,
    create: (config) => {
      const docker = config.providers.docker;
      return (
        docker &&
        createDockerProvider({ config: docker, workRoot: agentsDir(config, docker.workDir), logRotateMegabytes: config.server.agentLogs.rotateMegabytes })
      );
    },
    check: (config) => {
      if (!config.providers.docker) throw new Error("providers.docker: missing; set it (plexlift config set providers.docker '{}')");
      return checkDockerProvider(config.providers.docker);
    },
  },
  scaleway: {
    isCloud: true,
    // Loaded only when used: the SDK and the cloud-init writer weigh on an idle daemon.
    create: async (config) => {
      if (!config.providers.scaleway) return undefined;
      const { createScalewayProvider } = await import('./scaleway/scaleway-provider.js');
      return createScalewayProvider({ config: config.providers.scaleway });
    },
    check: (config) => {
      const scaleway = config.providers.scaleway;
      if (!scaleway) throw new Error('providers.scaleway: missing; set at least providers.scaleway.plexCommand (credentials may come from SCW_* variables)');
      if (!scaleway.secretKey && !process.env.SCW_SECRET_KEY) throw new Error('providers.scaleway.secretKey (or SCW_SECRET_KEY): not set');
      if (!scaleway.projectId && !process.env.SCW_DEFAULT_PROJECT_ID) throw new Error('providers.scaleway.projectId (or SCW_DEFAULT_PROJECT_ID): not set');
      return `${scaleway.commercialType} in ${scaleway.zone}, stopped at ${scaleway.maxHours} h or ${scaleway.maxCost} €`;
    },
    checkApi: async (config, timeoutMs) => {
      const { checkScalewayApi } = await import('./scaleway/scaleway-check.js');
      return checkScalewayApi(config.providers.scaleway!, timeoutMs);
    },
  },
} satisfies Record<ProviderName, ProviderEntry>;

/**
 * The work roots of the providers that run agents on this machine (local, docker): where their
 * logs are (agent-logs.ts), for the daemon's housekeeping. The default one always (a provider
 * taken out of the config leaves its logs there).
 */
export function agentWorkRoots(config: Config): string[] {
  const { local, docker } = config.providers;
  return [...new Set([agentsDir(config, undefined), agentsDir(config, local?.workDir), agentsDir(config, docker?.workDir)])];
}

/** Every provider the config has a section for (the daemon's). */
export async function createProviders(config: Config): Promise<Partial<Record<ProviderName, Provider>>> {
  const providers: Partial<Record<ProviderName, Provider>> = {};
  for (const name of PROVIDER_NAMES) {
    const provider = await PROVIDERS[name].create(config);
    if (provider) providers[name] = provider;
  }
  return providers;
}

/**
 * Runs one check of `plexlift doctor` and records its line: what it found, or the error's message;
 * resolves whether it passed. A slow one (a network call) is announced before it starts.
 */
export type AttemptCheck = (name: string, check: () => string | Promise<string>, options?: { isSlow?: boolean }) => Promise<boolean>;

/** `plexlift doctor`'s checks of the provider `plexlift run` uses by default; none changes anything. */
export async function checkProvider(config: Config, attempt: AttemptCheck): Promise<void> {
  const name = config.provider;
  if (!name) {
    await attempt('provider', () => {
      throw new Error('provider: none; plexlift run needs --provider, or set provider');
    });
    return;
  }
  const entry: ProviderEntry = PROVIDERS[name];
  const isConfigured = await attempt(`provider ${name}`, () => entry.check(config));
  const { checkApi } = entry;
  if (isConfigured && checkApi) await attempt(`${name} API`, () => checkApi(config, API_CHECK_TIMEOUT_MS), { isSlow: true });
  if (entry.isCloud) {
    await attempt('public address', () => {
      if (!config.server.publicUrl)
        throw new Error(`server.publicUrl: not set; a VM must reach this daemon (a forwarded port or a tunnel), not 127.0.0.1:${config.server.port}`);
      return `agents call ${config.server.publicUrl}`;
    });
  }
}

/** `command` (a path, or a name looked up in PATH) names an executable file. */
function isExecutable(command: string): boolean {
  const candidates = command.includes('/') ? [command] : (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, command));
  return candidates.some((path) => {
    try {
      accessSync(path, constants.X_OK);
      return statSync(path).isFile();
    } catch {
      return false;
    }
  });
}
