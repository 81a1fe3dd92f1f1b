import { mkdirSync } from 'node:fs';
import { PlexliftError } from '@plexlift/shared';
import { dockerMessage, type DockerApi } from '@plexlift/shared/docker';
import { PLEX_SQLITE_PATHS } from '@plexlift/shared/plex-db';
import { maskPlexOutput, PLEX_OUTPUT_LINES } from './plex-output.js';
import { PLEX_STOP_GRACE_MS, type PlexRuntime, type PlexSqliteShell, type PlexStartOptions } from './plex-runtime.js';

export interface DockerPlexRuntimeOptions {
  docker: DockerApi;
  /** The image without its tag; the tag is the home's exact version. @default plexinc/pms-docker */
  image?: string;
  /** On this host: the image's `/config` and `/transcode`. */
  configDir: string;
  transcodeDir: string;
  containerName: string;
  /** Where Plex answers (host network). @default http://127.0.0.1:32400 */
  url?: string;
  /** Extra environment for the container (a double's knobs in tests). */
  env?: Record<string, string>;
  /** Each line Plex's container prints (secrets masked), for the agent's log. */
  onLog?: (line: string) => void;
  /**
   * The docker CLI, which runs `Plex SQLite` in the image with its input and output piped (the
   * Engine API would need a hijacked stream for that). @default docker
   */
  dockerCli?: string;
}

/**
 * Plex in the official `plexinc/pms-docker` image at the home's exact version, as that image
 * expects to run: `PLEX_CLAIM`, `PLEX_UID`/`PLEX_GID`, `TZ`; `/config` and `/transcode`
 * volumes; the media read-only at the same path as at home; the host's network. Stopped with the
 * image's grace period, then removed (its logs collected first).
 */
export function createDockerPlexRuntime(options: DockerPlexRuntimeOptions): PlexRuntime & { containerName: string } {
  const { docker } = options;
  const name = encodeURIComponent(options.containerName);
  let running = false;
  let claimToken: string | undefined;
  const repository = options.image ?? 'plexinc/pms-docker';

  const removeStale = async () => {
    const gone = await docker.call('DELETE', `/containers/${name}?force=true&v=true`);
    if (gone.status !== 204 && gone.status !== 404)
      throw new PlexliftError('PLEX_API_ERROR', `docker could not remove an old ${options.containerName}: HTTP ${gone.status} ${dockerMessage(gone.body)}`);
  };

  const ensureImage = async (reference: string, signal?: AbortSignal) => {
    const present = await docker.call('GET', `/images/${encodeURIComponent(reference)}/json`);
    if (present.status === 200) return;
    const [image, tag] = [reference.slice(0, reference.lastIndexOf(':')), reference.slice(reference.lastIndexOf(':') + 1)];
    signal?.throwIfAborted();
    // The pull answers 200 and streams its progress; a failure is a line with "error" in it.
    const pulled = await docker.call('POST', `/images/create?fromImage=${encodeURIComponent(image)}&tag=${encodeURIComponent(tag)}`, undefined, 30 * 60_000);
    const failure = pulled.body
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { error?: string })
      .find((line) => line.error);
    if (pulled.status !== 200 || failure) {
      throw new PlexliftError(
        'PLEX_NOT_READY',
        `docker could not pull ${reference}: ${failure?.error ?? dockerMessage(pulled.body)}; is this Plex version published as an image tag?`,
      );
    }
  };

  const collectLogs = async () => {
    const lines = (await docker.logs(options.containerName)).map((line) => maskPlexOutput(line, [claimToken]));
    for (const line of lines) options.onLog?.(line);
    return lines.slice(-PLEX_OUTPUT_LINES);
  };

  return {
    kind: 'docker',
    configDir: options.configDir,
    containerName: options.containerName,
    isRunning: () => running,
    async start(start: PlexStartOptions) {
      if (!start.version) throw new PlexliftError('BAD_ARGUMENT', 'the Docker Plex runtime needs the version to pin');
      const reference = `${repository}:${start.version}`;
      await ensureImage(reference, start.signal);
      claimToken = start.claimToken;
      await removeStale();
      mkdirSync(options.configDir, { recursive: true });
      mkdirSync(options.transcodeDir, { recursive: true });
      const env = {
        ...options.env,
        ...(start.claimToken ? { PLEX_CLAIM: start.claimToken } : {}),
        ...(start.timeZone ? { TZ: start.timeZone } : {}),
        ...(start.uid !== undefined ? { PLEX_UID: String(start.uid), PLEX_GID: String(start.gid ?? start.uid) } : {}),
      };
      await docker.expect('create the Plex container', 'POST', `/containers/create?name=${name}`, [201], {
        Image: reference,
        Env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
        Labels: { 'org.plexlift.role': 'plex' },
        StopTimeout: Math.ceil(PLEX_STOP_GRACE_MS / 1000),
        HostConfig: {
          NetworkMode: 'host',
          Binds: [`${options.configDir}:/config`, `${options.transcodeDir}:/transcode`, ...(start.mediaPaths ?? []).map((path) => `${path}:${path}:ro`)],
        },
      });
      await docker.expect('start the Plex container', 'POST', `/containers/${name}/start`, [204, 304]);
      running = true;
      return { url: options.url ?? 'http://127.0.0.1:32400' };
    },
    async stop(stop = {}) {
      const inspect = await docker.call('GET', `/containers/${name}/json`);
      if (inspect.status === 404) {
        running = false;
        return { clean: true };
      }
      const graceSeconds = Math.ceil((stop.graceMs ?? PLEX_STOP_GRACE_MS) / 1000);
      await docker.expect('stop the Plex container', 'POST', `/containers/${name}/stop?t=${graceSeconds}`, [204, 304], undefined, (graceSeconds + 60) * 1000);
      // Exit 137 is the SIGKILL after the grace period: Plex did not get to close its DB.
      const state = JSON.parse((await docker.call('GET', `/containers/${name}/json`)).body) as { State?: { ExitCode?: number } };
      const output = await collectLogs();
      await removeStale();
      running = false;
      return { clean: state.State?.ExitCode !== 137, output };
    },
    async plexSqlite(version, { signal } = {}): Promise<PlexSqliteShell> {
      const reference = `${repository}:${version}`;
      await ensureImage(reference, signal);
      mkdirSync(options.configDir, { recursive: true });
      mkdirSync(options.transcodeDir, { recursive: true });
      // As the agent's own user, so what it writes stays the agent's; no network: it needs none.
      const user = process.getuid && process.getgid ? ['--user', `${process.getuid()}:${process.getgid()}`] : [];
      return {
        command: [
          options.dockerCli ?? 'docker',
          '-H',
          `unix://${docker.socketPath}`,
          'run',
          '--rm',
          '-i',
          '--network',
          'none',
          ...user,
          '--entrypoint',
          PLEX_SQLITE_PATHS[0]!,
          '-v',
          `${options.configDir}:${options.configDir}`,
          '-v',
          `${options.transcodeDir}:${options.transcodeDir}`,
          reference,
        ],
        scratchDir: options.transcodeDir,
        source: `Plex SQLite in ${reference}`,
      };
    },
  };
}
