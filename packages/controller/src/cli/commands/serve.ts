import { Option, type Command } from 'commander';
import { PlexliftError } from '@plexlift/shared';
import { loadConfig } from '../../config.js';
import { startDaemon, type Daemon } from '../../daemon.js';
import { stderrLogger, type LogFormat } from '../../logger.js';
import { untilShutdown } from '../../shutdown-signals.js';
import { createCommandAction } from '../command-action.js';
import { holdSighupDuringStartup } from '../early-sighup.js';
import { port } from '../option-parsers.js';

/**
 * How long a graceful stop may take before the daemon exits anyway. Every wait of a job ends at
 * the signal, so a stop takes a second or two; this bound keeps the promise of an exit within
 * 10 s (and well inside the unit's TimeoutStopSec) even if something unforeseen holds on. What it
 * cuts short (a teardown, a reaper pass) is taken up at the next start: jobs resume and the
 * reaper finds what is left.
 */
const STOP_DEADLINE_MS = 8_000;

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description("run the daemon: the agents' and the CLI's server, the job runner (what the systemd unit starts)")
    .option('--port <port>', 'listen here instead of server.port', port)
    .addOption(
      new Option('--log-format <format>', 'plain lines, or JSON lines (time, level, scope, jobId, msg) for a log collector')
        .choices(['text', 'json'])
        .default('text'),
    )
    .action(
      createCommandAction<{ port?: number; logFormat: LogFormat }>(async ({ options, command }) => {
        const sighup = holdSighupDuringStartup();
        const configPath = command.optsWithGlobals<{ config?: string }>().config;
        const logger = stderrLogger(options.logFormat);
        let daemon: Daemon;
        try {
          const { config, path } = loadConfig({ path: configPath });
          daemon = await startDaemon(config, { logger, configPath: path, ...(options.port ? { port: options.port } : {}) });
          logger.info(`plexlift listening on ${daemon.url} (config ${path ?? 'defaults'}, state ${config.server.stateDir})`);
        } catch (error) {
          sighup.release();
          throw listenError(error, options.port) ?? error; // startDaemon closed what it opened: the exit status says why (3: a damaged store)
        }
        sighup.handOver(() => {
          try {
            daemon.reload(loadConfig({ path: configPath }).config);
          } catch (error) {
            // A broken edit changes nothing: the daemon keeps the config it has.
            logger.error(`config not reloaded: ${(error as Error).message}`);
          }
        });
        await untilShutdown(() => daemon.close(), { deadlineMs: STOP_DEADLINE_MS, logger });
      }),
    );
}

/** A port that cannot be had, said as what it is and what to do (not a stack). */
function listenError(error: unknown, flagPort: number | undefined): PlexliftError | undefined {
  const { code, port } = error as NodeJS.ErrnoException & { port?: number };
  const field = flagPort ? '--port' : 'server.port';
  if (code === 'EADDRINUSE') {
    return new PlexliftError(
      'CONFIG_INVALID',
      `${field}: port ${port ?? flagPort ?? ''} is in use (another plexlift serve?); stop that one, or choose another port (--port, or plexlift config set server.port)`,
      { cause: error },
    );
  }
  if (code === 'EACCES') {
    return new PlexliftError('CONFIG_INVALID', `${field}: port ${port ?? flagPort ?? ''} needs root (ports below 1024); choose a port from 1024 up`, {
      cause: error,
    });
  }
  if (code === 'EADDRNOTAVAIL')
    return new PlexliftError('CONFIG_INVALID', `server.host: this machine has no such address (${(error as Error).message})`, { cause: error });
  return undefined;
}
