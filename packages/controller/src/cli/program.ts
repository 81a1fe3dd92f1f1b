import { Command, CommanderError, Option } from 'commander';
import { EXIT_CODES, exitStatusOf } from '@plexlift/shared';
import { VERSION } from '../version.js';
import { registerCompletion } from './commands/completion.js';
import { registerConfig } from './commands/config.js';
import { registerDashboard } from './commands/dashboard.js';
import { registerDbCheck } from './commands/db-check.js';
import { registerDbRemap } from './commands/db-remap.js';
import { registerDbRepair } from './commands/db-repair.js';
import { registerDbStats } from './commands/db-stats.js';
import { registerDoctor } from './commands/doctor.js';
import { registerInit } from './commands/init.js';
import { registerInstall } from './commands/install.js';
import { registerJobs } from './commands/jobs.js';
import { registerLogin, registerLogout } from './commands/login.js';
import { registerLogs } from './commands/logs.js';
import { registerNotify } from './commands/notify.js';
import { registerProgress } from './commands/progress.js';
import { registerRun } from './commands/run.js';
import { registerSchedule } from './commands/schedule.js';
import { registerServe } from './commands/serve.js';
import { registerService } from './commands/service.js';
import { registerVersion } from './commands/version.js';
import { registerVms } from './commands/vms.js';

export function createProgram(): Command {
  const program = new Command('plexlift')
    .description("Run Plex Media Server's heavy indexing on a short-lived cloud VM and bring the database home safely.")
    .version(VERSION)
    .option('--config <file>', 'config file (default: $PLEXLIFT_CONFIG, else /etc/plexlift/config.json when it exists)')
    // Read by every command through optsWithGlobals (createCommandAction): commander takes a
    // program's options after the subcommand too, so `plexlift jobs -q` works as well.
    .addOption(new Option('-q, --quiet', 'print only results and errors: no progress, no info lines').conflicts('verbose'))
    .addOption(new Option('-v, --verbose', 'print more: every job event as a line, where an error came from'))
    // Set before the subcommands are created: they inherit it.
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`plexlift: ${text.replace(/^error: /, '')}`) });

  const db = program.command('db').description('inspect, check, repair and remap a Plex library database (works without the daemon)');
  registerDbStats(db);
  registerDbCheck(db);
  registerDbRepair(db);
  registerDbRemap(db);
  registerRun(program);
  registerJobs(program);
  registerLogs(program);
  registerProgress(program);
  registerSchedule(program);
  registerInstall(program);
  registerVms(program);
  registerService(program);
  registerServe(program);
  registerConfig(program);
  registerDoctor(program);
  registerNotify(program);
  registerInit(program);
  registerDashboard(program);
  registerVersion(program);
  registerCompletion(program);
  registerLogin(program);
  registerLogout(program);
  pointToHelpOnError(program);
  return program;
}

/** A usage error prints itself and where the help is, not the whole help. */
function pointToHelpOnError(command: Command, path = command.name()): void {
  command.showHelpAfterError(`(see ${path} --help)`);
  for (const sub of command.commands) pointToHelpOnError(sub, `${path} ${sub.name()}`);
}

/** Parses `argv` and runs the command; the outcome is left in `process.exitCode`. */
export async function runCli(argv: string[]): Promise<void> {
  try {
    await createProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version exit 0; every parse error is bad usage.
      process.exitCode = error.exitCode === 0 ? EXIT_CODES.ok : exitStatusOf('BAD_ARGUMENT');
      return;
    }
    throw error;
  }
}
