import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { plexSimCommand } from '../plex-sim/sim-command.js';
import type { HomePlex } from './home-plex.js';
import { CLI_BIN } from './run-cli.js';

export interface PlexliftDaemon {
  pid: number;
  log: () => string;
  /** SIGHUP: reread the config. */
  reload: () => void;
  /** SIGKILL: no goodbye, no cleanup (what a power cut or an OOM kill does). */
  kill: () => Promise<void>;
  /** SIGTERM, and wait for it to exit. */
  stop: () => Promise<void>;
}

/**
 * `plexlift serve` as its own process, once it listens: from the sources by default, or
 * `command` (the bundled CLI, as installed).
 */
export async function startPlexliftDaemon(
  configPath: string,
  command: string[] = [process.execPath, '--conditions=source', '--import', 'tsx', CLI_BIN],
): Promise<PlexliftDaemon> {
  const daemon = spawn(command[0]!, [...command.slice(1), 'serve', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  daemon.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
  daemon.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const signal = async (name: NodeJS.Signals) => {
    if (daemon.exitCode !== null || daemon.signalCode !== null) return;
    const exited = once(daemon, 'exit');
    daemon.kill(name);
    await exited;
  };
  for (let i = 0; !log.includes('plexlift listening'); i++) {
    if (daemon.exitCode !== null || i > 300) {
      await signal('SIGKILL');
      throw new Error(`plexlift serve did not start: ${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { pid: daemon.pid!, log: () => log, reload: () => daemon.kill('SIGHUP'), kill: () => signal('SIGKILL'), stop: () => signal('SIGTERM') };
}

export interface LocalJobConfigInput {
  dir: string;
  port: number;
  home: HomePlex;
  plexTvUrl: string;
  plexToken: string;
  /** The media bucket as an rclone remote. */
  remote: string;
  /** The cloud Plex's knobs (plex-sim) and the agent's tuning. */
  knobs: Record<string, unknown>;
  tuning: Record<string, unknown>;
}

/** A config for jobs with the `local` provider (the cloud Plex is plex-sim): `<dir>/config.json`. */
export function writeLocalJobConfig(input: LocalJobConfigInput): string {
  const { dir, home } = input;
  writeFileSync(join(dir, 'knobs.json'), JSON.stringify(input.knobs));
  writeFileSync(join(dir, 'tuning.json'), JSON.stringify(input.tuning));
  const config = {
    server: { port: input.port, host: '127.0.0.1', stateDir: join(dir, 'state') },
    home: {
      plexDataDir: home.paths.pms,
      plexUrl: home.url,
      plexToken: input.plexToken,
      plexTvUrl: input.plexTvUrl,
      control: home.controlConfig,
      startTimeoutSeconds: 30,
    },
    media: { mountPath: join(home.dir, 'media'), remote: input.remote, vfsProfile: 'lite' },
    provider: 'local',
    providers: { local: { plexCommand: plexSimCommand(join(dir, 'knobs.json'), input.plexTvUrl), tuningFile: join(dir, 'tuning.json') } },
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return join(dir, 'config.json');
}
