import type { Command } from 'commander';
import { EXIT_CODES, exitStatusOf, PlexliftError } from '@plexlift/shared';
import { loadConfig } from '../../config.js';
import { createLogger } from '../../logger.js';
import { createNotifier } from '../../notify/notifier.js';
import { createCommandAction } from '../command-action.js';
import { printList } from '../output.js';

export function registerNotify(program: Command): void {
  const notify = program.command('notify').description("the notifications of the config's notify section (webhook, ntfy, e-mail)");
  notify
    .command('test')
    .description('send a test message to every configured channel and say how each went (works without the daemon)')
    .option('--json', 'print JSON')
    .action(
      createCommandAction<{ json?: boolean }>(async ({ output, command }) => {
        const { config } = loadConfig({ path: command.optsWithGlobals<{ config?: string }>().config });
        if (!config.notify || (!config.notify.webhook && !config.notify.ntfy && !config.notify.email)) {
          throw new PlexliftError('CONFIG_INVALID', 'notify: no channel is set; set notify.webhook, notify.ntfy or notify.email (README, "Notifications")');
        }
        // Failures are in the results: the log line would say the same thing twice.
        const notifier = createNotifier(
          config.notify,
          createLogger(() => undefined),
        );
        const results = await notifier.send({
          event: 'test',
          title: 'plexlift: test notification',
          text: 'This is a test from plexlift notify test: this channel will be told when a job ends, fails, lands or hits its cap.',
          details: {},
        });
        printList(output, results, { empty: '', header: ['channel', 'result'], row: (r) => [r.channel, r.ok ? 'sent' : `FAILED: ${r.detail}`] });
        return results.every((r) => r.ok) ? EXIT_CODES.ok : exitStatusOf('CONFIG_INVALID');
      }),
    );
}
