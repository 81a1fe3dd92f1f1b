import type { Command } from 'commander';
import { PlexliftError } from '@plexlift/shared';
import { loadConfig } from '../../config.js';
import type { ControllerClient } from '../../client.js';
import { createCommandAction, type CommandContext } from '../command-action.js';
import { withController } from '../controller-connection.js';
import { formatAge, formatDuration, printList } from '../output.js';
import { toTerminalText } from '../terminal-text.js';

export function registerDashboard(program: Command): void {
  const dashboard = program
    .command('dashboard')
    .description('print a one-time sign-in link to the web dashboard (it works once, for 10 minutes)')
    .option('--read-only', 'a link to a session that can look but not act (a family member’s phone)')
    .option('--url <base>', 'the address the browser reaches the daemon at (a reverse proxy or a tunnel); default: the one this CLI uses')
    .option('--json', 'print JSON')
    .action(
      createCommandAction<{ readOnly?: boolean; url?: string; json?: boolean }>(({ options, output, command }) =>
        withController(command, async (client, daemon) => {
          const base = baseOf(options.url ?? publicUrlOf(command.optsWithGlobals<{ config?: string }>().config, daemon.url) ?? daemon.url);
          const link = await client.dashboard.signInLink.mutate({ role: options.readOnly ? 'viewer' : 'admin' });
          const url = `${base}${link.path}`;
          if (output.json) return output.printJson({ url, role: link.role, expiresAt: new Date(link.expiresAt).toISOString() });
          output.info(`open this link within 10 minutes (it works once; ${link.role === 'viewer' ? 'a read-only session' : 'a full session'}):`);
          output.result(url);
        }),
      ),
    );

  dashboard
    .command('sessions')
    .description('the signed-in sessions: a handle each (to revoke it), its role, when it signed in and ends, its browser (--json: JSON)')
    .action(
      withDashboardJson<object>(async (client, { output }) => {
        const sessions = await client.dashboard.sessions.query();
        if (output.json)
          return output.printJson(
            sessions.map((s) => ({ ...s, signedInAt: new Date(s.signedInAt).toISOString(), expiresAt: new Date(s.expiresAt).toISOString() })),
          );
        printList(output, sessions, {
          empty: 'No one is signed in to the dashboard.',
          header: ['handle', 'role', 'signed in', 'ends in', 'browser'],
          row: (s) => [
            s.handle,
            s.role === 'viewer' ? 'read-only' : 'full',
            `${formatAge(s.signedInAt)} ago`,
            formatDuration((s.expiresAt - Date.now()) / 1000),
            toTerminalText(s.browser),
          ],
        });
      }),
    );

  dashboard
    .command('revoke')
    .description('sign a session out (its open pages close at once), by the handle `plexlift dashboard sessions` shows, or --all')
    .argument('[handle]', 'the session’s handle')
    .option('--all', 'every session')
    .action(
      withDashboardJson<{ all?: boolean }, [string | undefined]>(async (client, { args: [handle], options, output }) => {
        if ((handle === undefined) === (options.all !== true))
          throw new PlexliftError('BAD_ARGUMENT', 'name one session by its handle (plexlift dashboard sessions lists them), or --all');
        const { revoked } = await client.dashboard.revoke.mutate(handle === undefined ? { all: true } : { handle });
        if (output.json) return output.printJson({ revoked });
        output.result(handle === undefined ? `signed out ${revoked} session(s)` : `signed out session ${handle}`);
      }),
    );
}

/**
 * A subcommand's action that talks to the daemon, printing JSON on `--json`: commander hands that
 * flag to `dashboard` itself even after the subcommand's name, so it is read from there.
 */
function withDashboardJson<Options extends object, Args extends unknown[] = []>(
  handler: (client: ControllerClient, context: CommandContext<Options, Args>) => Promise<number | void>,
): (...received: unknown[]) => Promise<void> {
  return (...received) => {
    const json = (received.at(-1) as Command).optsWithGlobals<{ json?: boolean }>().json === true;
    return createCommandAction<Options, Args>((context) => withController(context.command, (client) => handler(client, context)), { json })(...received);
  };
}

/**
 * The daemon's public address (server.publicUrl) when this CLI reaches it on loopback: a phone on
 * the LAN cannot open 127.0.0.1. None when the config cannot be read (a user with only a profile).
 */
function publicUrlOf(configPath: string | undefined, reached: string): string | undefined {
  if (!/^https?:\/\/(127\.|localhost|\[::1\])/.test(reached)) return undefined;
  try {
    return loadConfig({ path: configPath }).config.server.publicUrl;
  } catch {
    return undefined;
  }
}

/** The base address without a trailing slash; a usage error names the flag when it is not a web address. */
function baseOf(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new PlexliftError('BAD_ARGUMENT', `--url: "${text}" is not an address such as https://plexlift.home.example:7878`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new PlexliftError('BAD_ARGUMENT', `--url: must be an http or https address, not ${url.protocol}`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
