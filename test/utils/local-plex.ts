import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { createLocalPlexRuntime } from '../../packages/agent/src/plex/local-plex-runtime.js';
import type { PlexRuntime } from '../../packages/agent/src/plex/plex-runtime.js';
import { dataDirPaths, type DataDirPaths } from '../plex-sim/data-dir.js';
import type { PlexSimOptions } from '../plex-sim/options.js';
import { readPreferences } from '../plex-sim/preferences-file.js';
import { startPlexTvSim } from '../plex-tv-sim/plex-tv-sim.js';

import { plexSimCommand } from '../plex-sim/sim-command.js';

export { plexSimCommand };

export interface LocalPlex {
  runtime: PlexRuntime;
  paths: DataDirPaths;
  /** A fresh single-use claim token for the owner. */
  claim: string;
  plexTvUrl: string;
  readToken: () => string | undefined;
}

/**
 * The agent's local Plex runtime running plex-sim in `dir`, with a plex.tv double for claims and
 * Plex Pass; stopped after the test.
 */
export async function createLocalPlex(dir: string, options: { knobs?: Partial<PlexSimOptions>; subscriptionActive?: boolean } = {}): Promise<LocalPlex> {
  mkdirSync(dir, { recursive: true });
  const tv = await startPlexTvSim({ accountToken: 'owner', subscriptionActive: options.subscriptionActive ?? true });
  onTestFinished(() => tv.close());
  const claim = ((await (await fetch(`${tv.url}/api/claim/token.json`, { headers: { 'X-Plex-Token': 'owner' } })).json()) as { token: string }).token;
  writeFileSync(join(dir, 'knobs.json'), JSON.stringify({ speed: 200, ...options.knobs }));
  const paths = dataDirPaths(join(dir, 'config'));
  const runtime = createLocalPlexRuntime({ command: plexSimCommand(join(dir, 'knobs.json'), tv.url), configDir: paths.config });
  onTestFinished(async () => {
    await runtime.stop({ graceMs: 1_000 });
  });
  return { runtime, paths, claim, plexTvUrl: tv.url, readToken: () => readPreferences(paths.preferences).get('PlexOnlineToken') };
}
