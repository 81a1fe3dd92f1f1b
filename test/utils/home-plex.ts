import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';
import type { PlexControlConfig } from '@plexlift/shared';
import { createPlexControl, type PlexControl } from '../../packages/controller/src/install/plex-control.js';
import { dataDirPaths, type DataDirPaths } from '../plex-sim/data-dir.js';
import type { PlexSimOptions } from '../plex-sim/options.js';
import { startTestSim } from '../plex-sim/sim-fixture.js';
import { freePort } from './free-port.js';
import { createMediaTree, type MediaTree, type MediaTreeSize } from './media-tree.js';
import { createTempDir } from './temp-dir.js';

const SIM = fileURLToPath(new URL('../plex-sim/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface HomePlex {
  dir: string;
  paths: DataDirPaths;
  media: MediaTree;
  url: string;
  /** Stopped and started by a command pair, as a user's own scripts would. */
  control: PlexControl;
  controlConfig: PlexControlConfig;
  /** Calls to `control.stop` / `control.start` so far. */
  calls: string[];
  /** The next start comes up broken (its /identity keeps failing): a Plex that does not come up. */
  failNextStart: () => void;
}

/**
 * A home Plex: plex-sim as its own process on a fixed loopback port with a scanned library,
 * controlled through a start/stop command pair (shell scripts that daemonise it and wait).
 */
export async function startHomePlex(options: { media?: MediaTreeSize; sections?: ('movie' | 'artist')[] } = {}): Promise<HomePlex> {
  const dir = createTempDir('home-plex-');
  const media = createMediaTree(join(dir, 'media'), options.media ?? { movies: 4, artists: 1, albums: 1, tracks: 3 });
  const paths = dataDirPaths(join(dir, 'config'));
  const seed = await startTestSim({ dataDir: paths.config });
  for (const type of options.sections ?? ['movie']) {
    await seed.addSection(type === 'movie' ? 'Movies' : 'Music', type, type === 'movie' ? media.roots.movies : media.roots.music);
  }
  await seed.sim.stop();

  const port = await freePort();
  const knobs: Partial<PlexSimOptions> = { speed: 10_000 };
  writeFileSync(join(dir, 'knobs.json'), JSON.stringify(knobs));
  const sim = `${process.execPath} --conditions=source --import tsx ${SIM} --data-dir "${paths.config}" --port ${port} --host 127.0.0.1`;
  writeFileSync(
    join(dir, 'start.sh'),
    `#!/bin/bash
cd "${ROOT}"
knobs="${dir}/knobs.json"
if [ -f "${dir}/knobs-once.json" ]; then mv "${dir}/knobs-once.json" "${dir}/knobs-used.json"; knobs="${dir}/knobs-used.json"; fi
: > "${dir}/plex.log"
setsid ${sim} --config "$knobs" >> "${dir}/plex.log" 2>&1 < /dev/null &
echo $! > "${dir}/plex.pid"
for i in $(seq 1 300); do
  grep -q '^listening' "${dir}/plex.log" && exit 0
  kill -0 "$(cat "${dir}/plex.pid")" 2>/dev/null || { tail -3 "${dir}/plex.log" >&2; exit 1; }
  sleep 0.1
done
echo "plex did not start" >&2; exit 1
`,
  );
  writeFileSync(
    join(dir, 'stop.sh'),
    `#!/bin/bash
pid=$(cat "${dir}/plex.pid" 2>/dev/null) || exit 0
kill -TERM "$pid" 2>/dev/null || exit 0
for i in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
kill -KILL "$pid"
`,
  );
  const controlConfig: PlexControlConfig = { type: 'command', start: ['bash', join(dir, 'start.sh')], stop: ['bash', join(dir, 'stop.sh')] };
  const real = createPlexControl(controlConfig);
  const calls: string[] = [];
  const control: PlexControl = {
    describe: real.describe,
    stop: () => (calls.push('stop'), real.stop()),
    start: () => (calls.push('start'), real.start()),
  };
  await real.start();
  onTestFinished(() => real.stop());
  return {
    dir,
    paths,
    media,
    url: `http://127.0.0.1:${port}`,
    control,
    controlConfig,
    calls,
    failNextStart: () => writeFileSync(join(dir, 'knobs-once.json'), JSON.stringify({ ...knobs, faults: { identityFailures: 1_000_000 } })),
  };
}

/**
 * sha256 of every file of a Plex data dir that an install may touch (the DBs with their
 * sidecars, `Metadata/`, `Media/`) and of `Preferences.xml`, by relative path.
 */
export function libraryFingerprint(pmsDir: string): Record<string, string> {
  const prints: Record<string, string> = {};
  const add = (path: string) => (prints[relative(pmsDir, path)] = createHash('sha256').update(readFileSync(path)).digest('hex'));
  for (const folder of ['Plug-in Support/Databases', 'Metadata', 'Media']) {
    const root = join(pmsDir, folder);
    if (!existsSync(root)) continue;
    for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) if (entry.isFile()) add(join(entry.parentPath, entry.name));
  }
  if (existsSync(join(pmsDir, 'Preferences.xml'))) add(join(pmsDir, 'Preferences.xml'));
  return prints;
}
