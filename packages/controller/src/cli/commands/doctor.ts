import type { Command } from 'commander';
import { EXIT_CODES, exitStatusOf, type Config } from '@plexlift/shared';
import { loadConfig } from '../../config.js';
import { runDoctorChecks } from '../../doctor-checks.js';
import { withController } from '../controller-connection.js';
import { createCommandAction } from '../command-action.js';

/** Whether the daemon answers this CLI with the admin token, and its last job. */
async function daemonAnswers(command: Command, config: Config): Promise<string> {
  try {
    const jobs = await withController(command, (client) => client.jobs.list.query({ limit: 1 }));
    return `answers with the admin token; ${jobs.length === 0 ? 'no jobs yet' : `last job ${jobs[0]!.id} (${jobs[0]!.state})`}`;
  } catch (error) {
    throw new Error(`not reachable on port ${config.server.port} (${(error as Error).message}); start it with plexlift serve`, { cause: error });
  }
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the config, the home Plex, plex.tv, the media remote, disk space and the daemon: each line ok, or what to fix')
    .option('--json', 'print JSON')
    .action(
      createCommandAction<{ json?: boolean }>(async ({ output, command }) => {
        const configPath = command.optsWithGlobals<{ config?: string }>().config;
        const { config, path } = loadConfig({ path: configPath });
        // On a terminal the notice of a slow check stands until its line replaces it.
        let isNoticeShown = false;
        const results = await runDoctorChecks(config, {
          configSource: path ?? 'no file: defaults (plexlift config set … writes one)',
          more: (attempt) => attempt('daemon', () => daemonAnswers(command, config)),
          onSlowStart: (name) => {
            if (output.json) return;
            if (!process.stderr.isTTY) return output.info(`checking ${name}…`);
            process.stderr.write(`checking ${name}…`);
            isNoticeShown = true;
          },
          onCheck: (r) => {
            if (isNoticeShown) process.stderr.write('\r\x1b[K');
            isNoticeShown = false;
            if (!output.json) output.result(`${r.ok ? 'ok ' : 'FIX'}  ${r.name}: ${r.detail}`);
          },
        });
        if (output.json) output.printJson(results);
        const failed = results.filter((r) => !r.ok);
        if (failed.length === 0) return EXIT_CODES.ok;
        // The table's status: 8 when only the daemon is down, 78 when the set-up needs fixing.
        return exitStatusOf(failed.every((r) => r.name === 'daemon') ? 'CONTROLLER_UNREACHABLE' : 'CONFIG_INVALID');
      }),
    );
}
