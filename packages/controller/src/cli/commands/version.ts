import type { Command } from 'commander';
import { PROTOCOL_VERSION } from '@plexlift/shared/protocol';
import { VERSION } from '../../version.js';
import { createCommandAction } from '../command-action.js';
import { withController } from '../controller-connection.js';

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description("this CLI's version, and the daemon's and its agents' when it answers")
    .option('--json', 'print JSON')
    .action(
      createCommandAction<{ json?: boolean }>(async ({ output, command }) => {
        const cli = { version: VERSION, protocol: PROTOCOL_VERSION, node: process.version };
        // A daemon that does not answer is said, not an error: the CLI's own version still helps.
        const daemon = await withController(command, (client) => client.daemon.version.query()).then(
          (answer) => ({ ok: true as const, ...answer }),
          (error: unknown) => ({ ok: false as const, error: (error as Error).message }),
        );
        if (output.json) return output.printJson({ cli, daemon });
        const lines = [`plexlift CLI ${cli.version} (agent protocol ${cli.protocol}, Node ${cli.node})`];
        if (daemon.ok) {
          lines.push(`daemon ${daemon.version} (agent protocol ${daemon.protocol}, Node ${daemon.node}); its agents ${daemon.agentVersion}`);
          if (daemon.version !== cli.version) lines.push(`the CLI and the daemon differ: update the one that is behind, then restart the daemon`);
        } else lines.push(`daemon: not reached (${daemon.error})`);
        output.result(lines.join('\n'));
      }),
    );
}
