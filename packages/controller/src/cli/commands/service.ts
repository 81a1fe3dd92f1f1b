import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { PlexliftError } from '@plexlift/shared';
import { stderrOf } from '@plexlift/shared/process';
import { configPathFor, loadConfig } from '../../config.js';
import { ENV_FILE, renderControllerUnit, renderEnvironmentExample, UNIT_NAME, unitPath } from '../../service/systemd-unit.js';
import { createCommandAction } from '../command-action.js';

/** The built CLI (what the unit starts): beside this file once built, or the build of these sources. */
function builtCli(): string {
  const here = fileURLToPath(new URL('../bin.js', import.meta.url));
  const built = existsSync(here) ? here : here.replace(/([/\\])src([/\\]cli[/\\]bin\.js)$/, '$1dist$2');
  if (!existsSync(built)) throw new PlexliftError('PATH_INVALID', `the built plexlift CLI is not at ${built}; build it first (npm run build)`);
  return built;
}

async function systemctl(...args: string[]): Promise<void> {
  try {
    await promisify(execFile)('systemctl', args);
  } catch (error) {
    throw new PlexliftError('UNEXPECTED', `systemctl ${args.join(' ')} failed: ${stderrOf(error)}`, { cause: error });
  }
}

interface ServiceOptions {
  unitDir: string;
  environmentFile: string;
  start: boolean;
  dryRun?: boolean;
  json?: boolean;
}

export function registerService(program: Command): void {
  const service = program.command('service').description("install or remove the daemon's systemd service (Debian, Ubuntu, CasaOS)");
  service
    .command('install')
    .description('write the hardened plexlift-controller.service for this config, an environment file example, and start it')
    .option('--unit-dir <dir>', 'where units go', '/etc/systemd/system')
    .option('--environment-file <file>', 'the environment file (written 0600 when missing)', ENV_FILE)
    .option('--no-start', 'write the files only (no systemctl)')
    .option('--dry-run', 'print the unit; write nothing')
    .option('--json', 'print JSON')
    .action(
      createCommandAction<ServiceOptions>(async ({ options, output, command }) => {
        const configArg = command.optsWithGlobals<{ config?: string }>().config;
        const configPath = configPathFor({ path: configArg });
        // The unit starts what this config describes; a broken config stops here.
        const { config } = loadConfig({ path: configPath });
        const unit = renderControllerUnit({ node: process.execPath, cli: builtCli(), configPath, config });
        if (options.dryRun) return output.result(unit.trimEnd());
        const path = unitPath(options.unitDir);
        mkdirSync(options.unitDir, { recursive: true });
        writeFileSync(`${path}.tmp`, unit, { mode: 0o644 });
        renameSync(`${path}.tmp`, path);
        if (!existsSync(options.environmentFile)) {
          mkdirSync(dirname(options.environmentFile), { recursive: true, mode: 0o755 });
          writeFileSync(options.environmentFile, renderEnvironmentExample(), { mode: 0o600 });
        }
        if (options.start) {
          await systemctl('daemon-reload');
          await systemctl('enable', '--now', UNIT_NAME);
        }
        if (output.json) return output.printJson({ unit: path, environmentFile: options.environmentFile, started: options.start });
        output.result(
          `wrote ${path}${options.start ? ' and started it: journalctl -u plexlift-controller -f' : '; start it with: systemctl daemon-reload && systemctl enable --now plexlift-controller'}`,
        );
      }),
    );
  service
    .command('uninstall')
    .description('stop and remove the service; the config, the state and the backups stay')
    .option('--unit-dir <dir>', 'where units go', '/etc/systemd/system')
    .option('--no-start', 'remove the file only (no systemctl)')
    .option('--json', 'print JSON')
    .action(
      createCommandAction<ServiceOptions>(async ({ options, output }) => {
        const path = unitPath(options.unitDir);
        if (!existsSync(path)) throw new PlexliftError('PATH_INVALID', `${path}: no plexlift service installed there`);
        if (options.start) await systemctl('disable', '--now', UNIT_NAME);
        rmSync(path);
        if (options.start) await systemctl('daemon-reload');
        if (output.json) return output.printJson({ removed: path });
        output.result(`removed ${path}; the config, the state folder and the backups are kept`);
      }),
    );
}
