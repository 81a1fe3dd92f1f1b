import type { Command } from 'commander';
import { mainDatabasePath } from '@plexlift/shared/plex-db';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { z } from 'zod';
import { HomeConfigSchema, MediaConfigSchema, PlexliftError, parseConfig } from '@plexlift/shared';
import { configPathFor, createConfigFolder, openConfigStore } from '../../config.js';
import { createCommandAction } from '../command-action.js';

interface InitOptions {
  json?: boolean;
  plexDataDir?: string;
  plexUrl?: string;
  control?: string;
  mediaPath?: string;
  remote?: string;
  rcloneConfig?: string;
  provider?: string;
  plexCommand?: string;
  stateDir?: string;
  port?: string;
  force?: boolean;
}

/** Checks one answer with the config schema's own rule for its key, so the message is the same. */
function schemaCheck(schema: z.ZodType, field: string): (answer: string) => void {
  return (answer) => {
    const result = schema.safeParse(answer);
    if (!result.success) throw new PlexliftError('CONFIG_INVALID', `${field}: ${result.error.issues[0]?.message ?? 'invalid'}`);
  };
}

const QUESTIONS: { key: keyof InitOptions; flag: string; question: string; fallback?: string; check: (answer: string) => void }[] = [
  {
    key: 'plexDataDir',
    flag: '--plex-data-dir',
    question: "the home Plex's data folder (…/Plex Media Server)",
    check: schemaCheck(HomeConfigSchema.shape.plexDataDir, 'home.plexDataDir'),
  },
  {
    key: 'plexUrl',
    flag: '--plex-url',
    question: 'the home Plex address',
    fallback: 'http://127.0.0.1:32400',
    check: schemaCheck(HomeConfigSchema.shape.plexUrl, 'home.plexUrl'),
  },
  {
    key: 'control',
    flag: '--control',
    question: 'how to stop and start the home Plex (docker:CONTAINER or systemd:UNIT)',
    check: (answer) => parseControl(answer),
  },
  {
    key: 'mediaPath',
    flag: '--media-path',
    question: 'where the home Plex sees the media',
    check: schemaCheck(MediaConfigSchema.shape.mountPath, 'media.mountPath'),
  },
  {
    key: 'remote',
    flag: '--remote',
    question: 'the rclone remote holding the same media (remote:path)',
    check: schemaCheck(MediaConfigSchema.shape.remote, 'media.remote'),
  },
];

/** Wrong answers are said and asked again, three times at most. */
const ATTEMPTS = 3;

/** `docker:plex` or `systemd:plexmediaserver.service` as a control entry. */
function parseControl(text: string): unknown {
  const [type, name] = [text.slice(0, text.indexOf(':')), text.slice(text.indexOf(':') + 1)];
  if (type === 'docker' && name) return { type: 'docker', container: name };
  if (type === 'systemd' && name) return { type: 'systemd', unit: name };
  throw new PlexliftError(
    'BAD_ARGUMENT',
    `--control: "${text}" is neither docker:CONTAINER nor systemd:UNIT (a command pair: plexlift config set home.control …)`,
  );
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('write a config: asks for what the flags do not give (on a terminal), checks it all, writes nothing when something is wrong')
    .option('--plex-data-dir <dir>', "the home Plex's data folder")
    .option('--plex-url <url>', 'the home Plex address (default http://127.0.0.1:32400)')
    .option('--control <how>', 'docker:CONTAINER or systemd:UNIT')
    .option('--media-path <dir>', 'where the home Plex sees the media')
    .option('--remote <remote>', 'the rclone remote holding the same media')
    .option('--rclone-config <file>', 'the rclone config with its credentials')
    .option('--provider <name>', 'the default provider (local)')
    .option('--plex-command <json>', 'for the local provider: the Plex command line as a JSON array')
    .option('--state-dir <dir>', "the daemon's state folder (default /var/lib/plexlift)")
    .option('--port <port>', "the daemon's port (default 7878)")
    .option('--force', 'replace an existing config')
    .option('--json', 'print JSON (the file written and the warnings)')
    .action(
      createCommandAction<InitOptions>(async ({ options, output, command }) => {
        const path = configPathFor({ path: command.optsWithGlobals<{ config?: string }>().config });
        if (existsSync(path) && !options.force)
          throw new PlexliftError('BAD_ARGUMENT', `${path} exists; edit it with plexlift config set, or pass --force to replace it`);
        const answers = { ...options };
        const missing = QUESTIONS.filter((q) => !answers[q.key]);
        if (missing.length > 0 && process.stdin.isTTY && process.stderr.isTTY) {
          // Lines are read as they come, buffered: answers typed ahead (or pasted) are not lost.
          const prompt = createInterface({ input: process.stdin, crlfDelay: Infinity });
          const lines = prompt[Symbol.asyncIterator]();
          try {
            for (const q of missing) {
              for (let attempt = 1; ; attempt++) {
                process.stderr.write(`${q.question}${q.fallback ? ` [${q.fallback}]` : ''}: `);
                const line = await lines.next();
                if (line.done) throw new PlexliftError('BAD_ARGUMENT', 'the input ended before every question was answered; nothing written');
                const answer = line.value.trim() || q.fallback;
                try {
                  if (!answer) throw new PlexliftError('BAD_ARGUMENT', `${q.flag}: an answer is needed`);
                  q.check(answer);
                  (answers as Record<string, unknown>)[q.key] = answer;
                  break;
                } catch (error) {
                  if (attempt >= ATTEMPTS) throw error;
                  process.stderr.write(`  ${(error as Error).message}\n`);
                }
              }
            }
          } finally {
            prompt.close();
          }
        }
        const absent = QUESTIONS.filter((q) => !answers[q.key] && !q.fallback);
        if (absent.length > 0)
          throw new PlexliftError('BAD_ARGUMENT', `missing ${absent.map((q) => q.flag).join(', ')} (or run plexlift init on a terminal to be asked)`);
        let plexCommand: unknown;
        if (answers.plexCommand) {
          try {
            plexCommand = JSON.parse(answers.plexCommand);
          } catch {
            throw new PlexliftError('BAD_ARGUMENT', '--plex-command: must be a JSON array of strings');
          }
        }
        const config = {
          server: { ...(answers.stateDir ? { stateDir: answers.stateDir } : {}), ...(answers.port ? { port: Number(answers.port) } : {}) },
          home: { plexDataDir: answers.plexDataDir, plexUrl: answers.plexUrl ?? 'http://127.0.0.1:32400', control: parseControl(answers.control!) },
          media: { mountPath: answers.mediaPath, remote: answers.remote, ...(answers.rcloneConfig ? { rcloneConfigPath: answers.rcloneConfig } : {}) },
          ...(answers.provider ? { provider: answers.provider } : {}),
          ...(plexCommand ? { providers: { local: { plexCommand } } } : {}),
        };
        parseConfig(config, path); // every key checked before anything is written
        createConfigFolder(path);
        openConfigStore(path).replace(config);
        // What can be seen from here is said now; the rest (the home Plex, the remote's credentials, the provider) is doctor's.
        const warnings = homeWarnings(answers.plexDataDir!, answers.mediaPath!, answers.control!.startsWith('docker:') ? 'docker' : 'systemd');
        if (output.json) return output.printJson({ path, warnings, notChecked: ['home Plex answers', 'the remote lists', 'the provider works'] });
        for (const warning of warnings) output.warn(warning);
        output.result(
          `wrote ${path}; checked: the form of every value, the data folder and the media path on this machine. Not checked: whether home Plex answers, the remote lists, the provider works: check them with plexlift doctor`,
        );
      }),
    );
}

/** What this machine shows of the answers: a data folder without Plex's library, a media path that is not here. */
function homeWarnings(plexDataDir: string, mediaPath: string, control: 'docker' | 'systemd'): string[] {
  const warnings: string[] = [];
  if (!existsSync(mainDatabasePath(plexDataDir)))
    warnings.push(
      `home.plexDataDir: ${plexDataDir} holds no Plex library database (Plug-in Support/Databases/com.plexapp.plugins.library.db); is it the "Plex Media Server" folder?`,
    );
  if (!existsSync(mediaPath))
    warnings.push(
      control === 'docker'
        ? `media.mountPath: ${mediaPath} is not on this machine; fine if it is the path inside the Plex container (the VM mounts the media there)`
        : `media.mountPath: ${mediaPath} does not exist on this machine; it must be where home Plex sees the media`,
    );
  return warnings;
}
