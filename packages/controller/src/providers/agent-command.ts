import { posix } from 'node:path';
import { toWebSocketUrl } from '@plexlift/shared/protocol';

/** How the agent runs Plex: a command of its own, or the Plex image in a Docker engine. */
export type AgentPlexRuntime =
  | { command: string[] }
  | {
      docker: {
        /** @default plexinc/pms-docker (the agent's own default) */
        image?: string | undefined;
        /** Where Plex answers. @default http://127.0.0.1:32400 */
        url?: string | undefined;
        env?: Record<string, string> | undefined;
      };
    };

export interface AgentCommandOptions {
  /** `http(s)://…` of the controller as the agent's machine reaches it. */
  controllerUrl: string;
  jobId: string;
  /** The agent's work folder; Plex's data and transcode folders go in it unless given. */
  workDir: string;
  /** Plex's data folder. @default `<workDir>/plex` */
  plexConfigDir?: string | undefined;
  /** Plex's transcode folder. @default `<workDir>/transcode` (the agent's own default) */
  plexTranscodeDir?: string | undefined;
  plex: AgentPlexRuntime;
  /** The controller certificate's SHA-256 fingerprint, which the agent pins. */
  fingerprint?: string | undefined;
  /** The bootstrap token's file; without it, the agent reads `PLEXLIFT_AGENT_TOKEN`. */
  tokenFile?: string | undefined;
  /** Extra agent settings (shorter waits in tests). */
  tuningFile?: string | undefined;
}

/**
 * The agent's arguments (packages/agent/src/main.ts), the same for every provider: the
 * controller's address as a WebSocket URL, the job, its folders, its Plex. Never the token itself
 * (`ps` shows a command line to every user of the machine).
 */
export function agentArguments(options: AgentCommandOptions): string[] {
  const { plex } = options;
  return [
    '--controller',
    toWebSocketUrl(options.controllerUrl),
    '--job',
    options.jobId,
    '--work-dir',
    options.workDir,
    '--plex-config',
    options.plexConfigDir ?? posix.join(options.workDir, 'plex'),
    ...(options.plexTranscodeDir ? ['--plex-transcode', options.plexTranscodeDir] : []),
    ...(options.tokenFile ? ['--token-file', options.tokenFile] : []),
    ...('command' in plex
      ? ['--plex-command', JSON.stringify(plex.command)]
      : [
          '--plex-runtime',
          'docker',
          ...(plex.docker.image ? ['--plex-image', plex.docker.image] : []),
          ...(plex.docker.url ? ['--plex-url', plex.docker.url] : []),
          ...Object.entries(plex.docker.env ?? {}).flatMap(([key, value]) => ['--plex-env', `${key}=${value}`]),
        ]),
    ...(options.fingerprint ? ['--fingerprint', options.fingerprint] : []),
    ...(options.tuningFile ? ['--tuning', options.tuningFile] : []),
  ];
}
