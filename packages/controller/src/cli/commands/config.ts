import type { Command } from 'commander';
import { isPlexliftError, PlexliftError, parseConfig } from '@plexlift/shared';
import { configPathFor, createConfigFolder, loadConfig, openConfigStore } from '../../config.js';
import { createCommandAction } from '../command-action.js';

/** Keys whose values are secrets: `config get` shows that they are set, never what they are. */
const SECRET_KEYS = [
  'home.plexToken',
  'providers.scaleway.secretKey',
  // A webhook's URL and headers often hold its token (a chat's incoming webhook, an Authorization header).
  'notify.webhook.url',
  'notify.webhook.headers',
  'notify.ntfy.token',
  'notify.email.password',
];

function lookup(values: Record<string, unknown>, key: string): unknown {
  return key
    .split('.')
    .reduce<unknown>((node, part) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined), values);
}

function assign(values: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(values);
  const parts = key.split('.');
  let node = copy;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    const child: Record<string, unknown> = next !== null && typeof next === 'object' && !Array.isArray(next) ? { ...next } : {};
    node[part] = child;
    node = child;
  }
  node[parts.at(-1)!] = value;
  return copy;
}

/** A value as typed: JSON when it parses (numbers, booleans, arrays, objects), else the text. */
function parseValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function registerConfig(program: Command): void {
  const config = program.command('config').description('read and edit the config file (works without the daemon; the daemon reloads on SIGHUP)');
  config
    .command('get')
    .description('the whole config with its defaults, or one key (dotted: home.plexUrl)')
    .argument('[KEY]', 'a dotted key')
    .action(
      createCommandAction<object, [key: string | undefined]>(
        ({ args: [key], output, command }) => {
          const { config: loaded } = loadConfig({ path: command.optsWithGlobals<{ config?: string }>().config });
          const shown = structuredClone(loaded) as Record<string, unknown>;
          for (const secret of SECRET_KEYS) if (lookup(shown, secret) !== undefined) Object.assign(shown, assign(shown, secret, '(set)'));
          const value = key ? lookup(shown, key) : shown;
          if (value === undefined) throw new PlexliftError('BAD_ARGUMENT', `config: no key ${key ?? ''} (and no default for it)`);
          output.printJson(value);
        },
        { json: true },
      ),
    );
  config
    .command('set')
    .description('set one key; the whole config is checked first and nothing is written when it is wrong')
    .argument('<KEY>', 'a dotted key such as home.plexUrl')
    .argument('<VALUE>', 'the value (JSON for numbers, booleans, arrays and objects)')
    .option('--json', 'print JSON')
    .action(
      createCommandAction<{ json?: boolean }, [key: string, value: string]>(({ args: [key, value], output, command }) => {
        const path = configPathFor({ path: command.optsWithGlobals<{ config?: string }>().config });
        if (!/^[A-Za-z][\w]*(\.[A-Za-z][\w]*)*$/.test(key)) throw new PlexliftError('BAD_ARGUMENT', `KEY: "${key}" is not a dotted key such as home.plexUrl`);
        createConfigFolder(path);
        const store = openConfigStore(path);
        const next = assign(store.values(), key, parseValue(value));
        try {
          parseConfig(next, path); // names the key and the problem; throws before anything is written
        } catch (error) {
          // A key the config does not have is a wrong argument, as for `config get`.
          const unknown = isPlexliftError(error) ? (error.details?.unknownKeys as string[] | undefined) : undefined;
          if (unknown?.some((name) => key === name || key.startsWith(`${name}.`)))
            throw new PlexliftError('BAD_ARGUMENT', `config: no key ${key} (plexlift config get shows the keys); nothing was written`);
          throw error;
        }
        store.replace(next);
        if (output.json) output.printJson({ key, path, set: true });
        else output.result(`${key} set in ${path}`);
      }),
    );
}
