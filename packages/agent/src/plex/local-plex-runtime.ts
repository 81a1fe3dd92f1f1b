import { spawn, type ChildProcess } from 'node:child_process';
import { PlexliftError } from '@plexlift/shared';
import { collectStderr, lastLine, stopChild } from '@plexlift/shared/process';
import { maskPlexOutput, OutputTail } from './plex-output.js';
import { PLEX_STOP_GRACE_MS, type PlexRuntime, type PlexStartOptions } from './plex-runtime.js';

export interface LocalPlexRuntimeOptions {
  /** The program and its arguments; it must print `listening URL` once it serves. */
  command: string[];
  configDir: string;
  /** Extra environment (e.g. the plex.tv address of a test double). */
  env?: NodeJS.ProcessEnv;
}

/** Plex as a child process of the agent, with the image's environment and stop sequence. */
export function createLocalPlexRuntime(options: LocalPlexRuntimeOptions): PlexRuntime {
  let child: ChildProcess | undefined;
  let url: string | undefined;
  let claimToken: string | undefined;
  const output = new OutputTail();
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  return {
    kind: 'process',
    configDir: options.configDir,
    isRunning: running,
    async start(start: PlexStartOptions) {
      if (running()) throw new PlexliftError('UNEXPECTED', 'Plex is already running');
      const [program, ...args] = options.command;
      if (!program) throw new PlexliftError('BAD_ARGUMENT', 'local Plex runtime: empty command');
      child = spawn(program, [...args, '--data-dir', options.configDir], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          ...options.env,
          ...(start.claimToken ? { PLEX_CLAIM: start.claimToken } : {}),
          ...(start.timeZone ? { TZ: start.timeZone } : {}),
          ...(start.uid !== undefined ? { PLEX_UID: String(start.uid), PLEX_GID: String(start.gid ?? start.uid) } : {}),
        },
      });
      claimToken = start.claimToken;
      output.take();
      let printed = '';
      const errors = collectStderr(child);
      child.stdout!.on('data', (chunk: Buffer) => output.write(chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => output.write(chunk.toString()));
      url = await new Promise<string>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
          printed += chunk.toString();
          const match = /listening (\S+)/.exec(printed);
          if (match) {
            child!.stdout!.off('data', onData);
            resolve(match[1]!);
          }
        };
        child!.stdout!.on('data', onData);
        child!.once('exit', (code, signal) =>
          reject(
            new PlexliftError(
              'PLEX_NOT_READY',
              `Plex exited before serving (${signal ?? `exit ${code}`}): ${maskPlexOutput(lastLine(errors()), [claimToken])}`,
            ),
          ),
        );
        start.signal?.addEventListener('abort', () => reject(start.signal!.reason as Error), { once: true });
      });
      return { url };
    },
    async stop(stop = {}) {
      if (!child || !running()) return { clean: true };
      const { killed } = await stopChild(child, { killAfterMs: stop.graceMs ?? PLEX_STOP_GRACE_MS });
      return { clean: !killed, output: output.take().map((line) => maskPlexOutput(line, [claimToken])) };
    },
  };
}
