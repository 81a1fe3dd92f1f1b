import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { bytesPerSecondOf, JobSwitchesSchema, PlexliftError, type Config, type RunRequest } from '@plexlift/shared';
import { analysesFromPreferences, PlexClient, readPreferencesFile, resolveAnalyses } from '@plexlift/shared/plex-api';
import { formatBytes, freeBytes, mainDatabasePath } from '@plexlift/shared/plex-db';
import { parseJobSpec, type JobSpec } from '@plexlift/shared/protocol';
import { PlexAccount, readOnlineToken } from '../plex-account.js';
import type { Provider, ProviderName } from '../providers/provider.js';
import { PROVIDERS } from '../providers/registry.js';
import type { JobStore } from '../store/job-store.js';
import type { JobPlan } from './job-control.js';
import { homeLibraries, watchedItems } from './home-library.js';
import { checkHomeBeforeRenting } from './home-preflight.js';

/** A job that passed every check before it exists: its spec and where it runs. */
export interface PreparedJob {
  spec: JobSpec;
  provider: Provider;
  /** The home library it works on (one live job each). */
  library: string;
}

export interface PlannerContext {
  config: Config;
  providers: Partial<Record<ProviderName, Provider>>;
  jobs: JobStore;
}

/** The machine's price now (a cloud's catalogue may have changed since start-up). */
export async function currentPrice(provider: Provider): Promise<number> {
  return (await provider.refreshPrice?.()) ?? provider.hourlyPrice;
}

/** Everything `run` and `plan` check before a job exists, and the spec they would run. */
export async function prepareJob(request: RunRequest, context: PlannerContext): Promise<PreparedJob> {
  const { config } = context;
  const home = config.home;
  const media = config.media;
  if (!home) throw new PlexliftError('CONFIG_INVALID', 'home: missing; set home.plexDataDir and home.control (plexlift init writes them)');
  if (!media) throw new PlexliftError('CONFIG_INVALID', 'media: missing; set media.mountPath and media.remote (plexlift init writes them)');
  const providerName = request.provider ?? config.provider;
  if (!providerName)
    throw new PlexliftError('BAD_ARGUMENT', '--provider: no provider given and none in the config (provider); plexlift never picks a cloud by itself');
  const provider = context.providers[providerName];
  if (!provider) throw new PlexliftError('CONFIG_INVALID', `providers.${providerName}: not configured`);
  // A cloud machine calls home: it needs an address it can reach, said on purpose.
  if (PROVIDERS[providerName].isCloud && !config.server.publicUrl) {
    throw new PlexliftError(
      'CONFIG_INVALID',
      `server.publicUrl: not set; a ${providerName} VM must reach this daemon (a forwarded port such as https://HOME:${config.server.port}, or a tunnel's address)`,
    );
  }

  await checkHomeBeforeRenting({ config, providerName, sections: request.sections });

  const plex = new PlexClient({ url: home.plexUrl, token: home.plexToken ?? readOnlineToken(home.plexDataDir) });
  const identity = await plex.identity().catch((error: unknown) => {
    throw new PlexliftError('PLEX_API_ERROR', `home.plexUrl: the home Plex at ${home.plexUrl} does not answer /identity (${(error as Error).message})`);
  });
  const analyses = resolveAnalyses(analysesFromPreferences(readPreferencesFile(home.plexDataDir)));
  const wantsSonic = !request.skipSonic && !request.skipAnalysis && analyses.sonic;
  if (request.mode === 'scan' && !request.yes) {
    const watched = watchedItems(home.plexDataDir);
    if (watched > 0) {
      throw new PlexliftError(
        'SAFETY_STOP',
        `a scan job builds a new library: every id changes and the watch history of ${watched} items would not carry over; use a delta job, or pass --yes to do it anyway`,
      );
    }
  }
  if (wantsSonic && !(await PlexAccount.fromHome(home).hasPlexPass())) {
    throw new PlexliftError('SAFETY_STOP', "Sonic analysis needs Plex Pass and the owner's account has none; run again with --skip-sonic");
  }
  // This run's --bwlimit, else the config's (both checked when given): the agent enforces it.
  const bwlimit = bytesPerSecondOf(request.bwlimit ?? config.transfers.bwlimit ?? 'off');
  const spec = parseJobSpec({
    jobId: `job-${new Date().toISOString().slice(0, 10)}-${randomBytes(3).toString('hex')}`,
    mode: request.mode,
    sections: request.sections,
    libraries: request.mode === 'scan' ? homeLibraries(home.plexDataDir) : [],
    // Every switch of the request travels as it is, but Sonic: off when the account cannot have it.
    ...JobSwitchesSchema.parse(request),
    skipSonic: !wantsSonic,
    plex: { version: identity.version },
    media: { mountPath: media.mountPath, remote: media.remote, vfsProfile: media.vfsProfile },
    mappings: media.mappings,
    analyses,
    ...(bwlimit === undefined ? {} : { bwlimitBytesPerSecond: bwlimit }),
  });
  return { spec, provider, library: home.plexDataDir };
}

/** `--dry-run`: what a prepared job would cost and whether home is ready for it. */
export async function planJob(prepared: PreparedJob, context: PlannerContext): Promise<JobPlan> {
  const { config } = context;
  const db = mainDatabasePath(config.home!.plexDataDir);
  const needed = existsSync(db) ? statSync(db).size * 3 : 0;
  const free = freeBytes(config.server.stateDir);
  const { spec, provider } = prepared;
  return {
    spec,
    provider: provider.name,
    hourlyPrice: await currentPrice(provider),
    ...(provider.caps ? { caps: provider.caps } : {}),
    checks: [
      { name: 'home Plex', ok: true, detail: `answers, version ${spec.plex.version} (the cloud Plex is pinned to it)` },
      { name: 'Plex Pass', ok: true, detail: spec.skipSonic ? 'not needed (no Sonic)' : 'active: Sonic will run' },
      { name: 'disk space', ok: free >= needed, detail: `${formatBytes(free)} free in ${config.server.stateDir}; a job needs about ${formatBytes(needed)}` },
      { name: 'one job per library', ok: !context.jobs.live().some((j) => j.library === prepared.library), detail: 'no other job is running on this library' },
    ],
  };
}
