import type { Command } from 'commander';
import { PlexliftError } from '@plexlift/shared';
import { loadConfig } from '../../config.js';
import { createCommandAction } from '../command-action.js';
import { withController } from '../controller-connection.js';

export function registerDashboard(program: Command): void {
  program
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
