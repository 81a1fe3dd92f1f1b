import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PlexControlConfig } from '@plexlift/shared';
import { createPlexControl, type PlexControl } from '../../packages/controller/src/install/plex-control.js';
import { clearOfButlerWindow } from '../plex-sim/clear-of-butler.js';
import { dataDirPaths, type DataDirPaths } from '../plex-sim/data-dir.js';
import type { PlexSimOptions } from '../plex-sim/options.js';
import { startPlexSim } from '../plex-sim/plex-sim.js';
import { freePort } from './free-port.js';
import { createMediaTree, type MediaTree, type MediaTreeSize } from './media-tree.js';

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
  /** Stops it (what the test or the demo does at the end). */
  close: () => Promise<void>;
}

/**
 * A home Plex in `dir`: plex-sim as its own process on a fixed loopback port with a scanned
 * library, controlled through a start/stop command pair (shell scripts that daemonise it and
 * wait). No test framework inside: the demo uses it too.
 */
export async function createHomePlex(
  dir: string,
  options: { media?: MediaTreeSize; sections?: ('movie' | 'show' | 'artist')[]; /** The PMS version it says it is. */ version?: string } = {},
): Promise<HomePlex> {
  const media = createMediaTree(join(dir, 'media'), options.media ?? { movies: 4, artists: 1, albums: 1, tracks: 3 });
  const paths = dataDirPaths(join(dir, 'config'));
  // The library as home has it: each section created (its first scan comes with it) and done.
  const seed = await startPlexSim({ dataDir: paths.config, port: 0, host: '127.0.0.1', speed: 10_000, clockOffsetMs: clearOfButlerWindow() });
  await seed.ready;
  const names = { movie: ['Movies', media.roots.movies], show: ['TV Shows', media.roots.tv], artist: ['Music', media.roots.music] } as const;
  for (const type of options.sections ?? ['movie']) {
    const [name, location] = names[type];
    const reply = await fetch(`${seed.url}/library/sections?name=${encodeURIComponent(name)}&type=${type}&location=${encodeURIComponent(location)}`, {
      method: 'POST',
    });
    if (!reply.ok) throw new Error(`home section ${name} not created: HTTP ${reply.status}`);
    await seed.jobs.idle();
  }
  await seed.stop();

  const port = await freePort();
  const knobs: Partial<PlexSimOptions> = { speed: 10_000, clockOffsetMs: clearOfButlerWindow(), ...(options.version ? { version: options.version } : {}) };
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
  return {
    dir,
    paths,
    media,
    url: `http://127.0.0.1:${port}`,
    control,
    controlConfig,
    calls,
    failNextStart: () => writeFileSync(join(dir, 'knobs-once.json'), JSON.stringify({ ...knobs, faults: { identityFailures: 1_000_000 } })),
    close: () => real.stop(),
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
