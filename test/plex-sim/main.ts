/**
 * Runs the Plex double as a process, the way the official image runs PMS:
 *   node --import tsx test/plex-sim/main.ts --data-dir DIR [--port 32400] [--config knobs.json]
 * Environment as in `plexinc/pms-docker`: PLEX_CLAIM, PLEX_UID, PLEX_GID, TZ. Prints
 * `listening URL` once it serves; SIGTERM stops it cleanly.
 */
import { chownSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { PlexSimOptions } from './options.js';
import { startPlexSim } from './plex-sim.js';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    config: { type: 'string' },
    speed: { type: 'string' },
    'plex-tv-url': { type: 'string' },
    version: { type: 'string' },
  },
});

// Knobs from a file, or (the image, started with no arguments as the real one is) PLEX_SIM_KNOBS as JSON.
const fromFile = values.config
  ? (JSON.parse(readFileSync(values.config, 'utf8')) as Partial<PlexSimOptions>)
  : process.env.PLEX_SIM_KNOBS
    ? (JSON.parse(process.env.PLEX_SIM_KNOBS) as Partial<PlexSimOptions>)
    : {};
const dataDir = values['data-dir'] ?? fromFile.dataDir;
if (!dataDir) {
  process.stderr.write('plex-sim: --data-dir (or dataDir in --config) is required\n');
  process.exit(2);
}
const options: PlexSimOptions = {
  ...fromFile,
  dataDir,
  // PLEX_SIM_PORT lets tests run the image on host networking without taking 32400.
  port: Number(process.env.PLEX_SIM_PORT ?? values.port ?? fromFile.port ?? 32400),
  host: values.host ?? fromFile.host ?? '0.0.0.0',
  ...((values.speed ?? fromFile.speed) ? { speed: Number(values.speed ?? fromFile.speed) } : {}),
  plexTvUrl: values['plex-tv-url'] ?? fromFile.plexTvUrl ?? process.env.PLEX_TV_URL,
  claimToken: process.env.PLEX_CLAIM ?? fromFile.claimToken,
  timeZone: process.env.TZ ?? fromFile.timeZone ?? 'UTC',
  ...(values.version ? { version: values.version } : {}),
};

// The image runs PMS as the plex user with PLEX_UID/PLEX_GID and owns /config to it.
const uid = process.env.PLEX_UID ? Number(process.env.PLEX_UID) : undefined;
const gid = process.env.PLEX_GID ? Number(process.env.PLEX_GID) : undefined;
if (uid !== undefined && process.getuid?.() === 0) {
  mkdirSync(dataDir, { recursive: true });
  chownTree(dataDir, uid, gid ?? uid);
  process.setgid?.(gid ?? uid);
  process.setuid?.(uid);
}

const sim = await startPlexSim(options);
let signals = 0;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    signals += 1;
    if (signals > 1) process.exit(1);
    void sim.stop().then(() => process.exit(0));
  });
}
// Announced only once the handlers are in place: stdout to a pipe is synchronous, so a reader
// may signal the very next instant.
process.stdout.write(`listening ${sim.url}\n`);

function chownTree(path: string, owner: number, group: number): void {
  chownSync(path, owner, group);
  if (!statSync(path).isDirectory()) return;
  for (const entry of readdirSync(path)) chownTree(join(path, entry), owner, group);
}
