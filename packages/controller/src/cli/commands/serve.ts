import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { startDaemon } from '../../daemon.js';
import { createOutput } from '../output.js';
import { runAction } from '../run-action.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the daemon: the agents\' and the CLI\'s server, the job runner (what the systemd unit starts)')
    .option('--port <port>', 'listen here instead of server.port', (value) => Number(value))
    .action(async (options: { port?: number }, command: Command) => {
      const output = createOutput({ json: false });
      await runAction(output, async () => {
        const configPath = command.optsWithGlobals<{ config?: string }>().config;
        const { config, path } = loadConfig({ path: configPath });
        const log = (level: 'info' | 'warn' | 'error', message: string) => process.stderr.write(`${level}: ${message}\n`);
        const daemon = await startDaemon(config, { log, ...(options.port ? { port: options.port } : {}) });
        log('info', `plexlift listening on ${daemon.url} (config ${path ?? 'defaults'}, state ${config.server.stateDir})`);
        process.on('SIGHUP', () => {
          try {
            daemon.reload(loadConfig({ path: configPath }).config);
          } catch (error) {
            // A broken edit changes nothing: the daemon keeps the config it has.
            log('error', `config not reloaded: ${(error as Error).message}`);
          }
        });
        await new Promise<void>((resolve) => {
          for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve());
        });
        log('info', 'stopping: agents keep working and reconnect when plexlift is back');
        await daemon.close();
      });
    });
}
