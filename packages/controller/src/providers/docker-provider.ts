import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PlexliftError, type DockerProviderConfig } from '@plexlift/shared';
import { DockerApi, dockerMessage, plexContainerName } from '@plexlift/shared/docker';
import { VERSION } from '../version.js';
import { agentArguments } from './agent-command.js';
import { agentLogsDir } from './agent-logs.js';
import { startDockerSocketProxy, type DockerSocketProxy } from './docker-socket-proxy.js';
import type { Provider, ProviderResource, ProvisionRequest } from './provider.js';

/** The label every agent container carries, with its job id: what `list` finds. */
const JOB_LABEL = 'org.plexlift.job';

/** Where the agent container sees its job's Docker socket (a folder: a restarted controller's new socket shows through). */
const AGENT_DOCKER_DIR = '/run/plexlift-docker';

interface DockerResource extends ProviderResource {
  jobId: string;
  container: string;
  workDir: string;
  /** The job's media folder, which its Plex container may bind read-only. */
  mediaPath?: string;
}

/**
 * The job's Plex data and transcode folders: the only folders its containers may bind read-write.
 * They live outside the agent's work folder, each bound into the agent on its own: the engine
 * resolves a bind's source on the host when the Plex container is created, and an agent holding
 * `CAP_SYS_ADMIN` and the folder above them could swap one for a link after the proxy checked it.
 */
const plexFoldersOf = (workRoot: string, jobId: string) => {
  const root = join(workRoot, 'plex-data', jobId);
  return { root, config: join(root, 'plex'), transcode: join(root, 'transcode') };
};
const writableFoldersOf = (workRoot: string, jobId: string) => {
  const { config, transcode } = plexFoldersOf(workRoot, jobId);
  return [config, transcode];
};

/**
 * The agent as a container on this machine's Docker (no cloud, no cost): host network (it calls
 * the controller on loopback), FUSE for its media mount, a Docker socket of its job's own (a
 * filtering proxy: its Plex container and nothing else, see docker-socket-proxy.ts) to run Plex
 * in a sibling container, and its work folder at the same path inside and out (the Plex
 * container's binds are paths of this host). Removed at teardown with its Plex container.
 */
export function createDockerProvider(options: {
  config: DockerProviderConfig;
  workRoot: string;
  /** server.agentLogs.rotateMegabytes: the agent container's log is rotated at this size, one older file kept. @default 20 */
  logRotateMegabytes?: number;
}): Provider {
  const { config } = options;
  const docker = new DockerApi(config.socketPath);
  const image = agentImageOf(config);
  const proxies = new Map<string, Promise<DockerSocketProxy>>();
  // Outside the work folder, which the agent can write: it cannot swap the socket's folder for a link.
  const proxyDirOf = (jobId: string) => join(options.workRoot, 'docker-sockets', jobId);

  /** The job's socket proxy, started once per controller process (again after a restart, for a running agent). */
  const ensureProxy = (resource: DockerResource): Promise<DockerSocketProxy> => {
    let proxy = proxies.get(resource.jobId);
    if (!proxy) {
      mkdirSync(join(options.workRoot, 'docker-sockets'), { recursive: true, mode: 0o700 });
      proxy = startDockerSocketProxy({
        socketPath: join(proxyDirOf(resource.jobId), 'docker.sock'),
        enginePath: config.socketPath,
        policy: {
          plexContainer: plexContainerName(resource.jobId),
          plexImage: config.plexImage,
          writableFolders: writableFoldersOf(options.workRoot, resource.jobId),
          readOnlyFolders: resource.mediaPath ? [resource.mediaPath] : [],
        },
      });
      proxies.set(resource.jobId, proxy);
      proxy.catch(() => proxies.delete(resource.jobId));
    }
    return proxy;
  };
  const closeProxy = async (jobId: string) => {
    const proxy = proxies.get(jobId);
    proxies.delete(jobId);
    await proxy?.then((p) => p.close()).catch(() => undefined);
    rmSync(proxyDirOf(jobId), { recursive: true, force: true });
  };

  const remove = async (name: string) => {
    const gone = await docker.call('DELETE', `/containers/${encodeURIComponent(name)}?force=true&v=true`);
    if (gone.status !== 204 && gone.status !== 404)
      throw new PlexliftError('PLEX_API_ERROR', `docker could not remove ${name}: HTTP ${gone.status} ${dockerMessage(gone.body)}`);
  };

  return {
    name: 'docker',
    hourlyPrice: 0,
    describe: (resource) => `container ${(resource as DockerResource).container}`,
    async provision(request: ProvisionRequest) {
      if (!(await hasImage(docker, image))) throw missingImage(image);
      const workDir = join(options.workRoot, request.jobId);
      const resource: DockerResource = {
        jobId: request.jobId,
        container: `plexlift-agent-${request.jobId}`,
        workDir,
        ...(request.mediaPath ? { mediaPath: request.mediaPath } : {}),
      };
      request.record(resource);
      mkdirSync(workDir, { recursive: true, mode: 0o700 });
      // Made here, outside the work folder, and bound into the agent at their own paths.
      const plexFolders = plexFoldersOf(options.workRoot, request.jobId);
      mkdirSync(join(options.workRoot, 'plex-data'), { recursive: true, mode: 0o700 });
      mkdirSync(plexFolders.root, { recursive: true, mode: 0o700 });
      for (const folder of writableFoldersOf(options.workRoot, request.jobId)) mkdirSync(folder, { recursive: true });
      // The token in a file of the work folder, not in the container's environment (docker inspect shows that).
      writeFileSync(join(workDir, 'bootstrap-token'), `${request.bootstrapToken}\n`, { mode: 0o600 });
      const cmd = agentArguments({
        controllerUrl: request.controllerUrl,
        jobId: request.jobId,
        workDir,
        plexConfigDir: plexFolders.config,
        plexTranscodeDir: plexFolders.transcode,
        plex: { docker: { image: config.plexImage, url: config.plexUrl, env: config.plexEnv } },
        fingerprint: request.controllerTls?.fingerprint,
        tokenFile: join(workDir, 'bootstrap-token'),
        tuningFile: config.tuningFile,
      });
      await remove(resource.container);
      await closeProxy(request.jobId);
      await ensureProxy(resource);
      await docker.expect('create the agent container', 'POST', `/containers/create?name=${encodeURIComponent(resource.container)}`, [201], {
        Image: image,
        Cmd: cmd,
        Env: [`DOCKER_SOCKET=${AGENT_DOCKER_DIR}/docker.sock`],
        Labels: { [JOB_LABEL]: request.jobId },
        HostConfig: {
          NetworkMode: 'host',
          Binds: [
            `${workDir}:${workDir}`,
            ...writableFoldersOf(options.workRoot, request.jobId).map((folder) => `${folder}:${folder}`),
            // Read-only: the agent connects to the socket but cannot remove or replace it.
            `${proxyDirOf(request.jobId)}:${AGENT_DOCKER_DIR}:ro`,
            ...(config.tuningFile ? [`${config.tuningFile}:${config.tuningFile}:ro`] : []),
          ],
          // rclone mounts the media with FUSE inside the container: the device and the mount(2) that CAP_SYS_ADMIN allows.
          Devices: [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' }],
          CapAdd: ['SYS_ADMIN'],
          // docker-default denies mount(2): unconfined only where the engine applies AppArmor (SECURITY.md).
          SecurityOpt: ['no-new-privileges:true', ...((await hasAppArmor(docker)) ? ['apparmor=unconfined'] : [])],
          // The engine rotates a running container's log itself (the local agent's is rotated by the
          // housekeeping, at the same size); json-file whatever the engine's default driver, so the
          // teardown can read it back (journald or syslog would keep it out of reach of `docker logs`).
          LogConfig: { Type: 'json-file', Config: { 'max-size': `${options.logRotateMegabytes ?? 20}m`, 'max-file': '2' } },
        },
      });
      await docker.expect('start the agent container', 'POST', `/containers/${encodeURIComponent(resource.container)}/start`, [204, 304]);
      return resource;
    },
    async status(resource) {
      const { container } = resource as DockerResource;
      const inspect = await docker.call('GET', `/containers/${encodeURIComponent(container)}/json`);
      if (inspect.status === 404) return { exists: false, detail: 'no agent container' };
      const state = (JSON.parse(inspect.body) as { State?: { Running?: boolean; Status?: string } }).State;
      // The runner watches every job's machine: a restarted controller reopens a running agent's socket here.
      if (state?.Running === true) await ensureProxy(resource as DockerResource);
      return { exists: state?.Running === true, detail: `agent container ${container} ${state?.Status ?? '?'}` };
    },
    async teardown(resource, { keep }) {
      const { container, jobId, workDir } = resource as DockerResource;
      // The agent stops its Plex when asked (SIGTERM, its grace), through its socket; then both go.
      if (jobId) await ensureProxy(resource as DockerResource).catch(() => undefined);
      await docker.call('POST', `/containers/${encodeURIComponent(container)}/stop?t=60`, undefined, 120_000);
      if (jobId) await closeProxy(jobId);
      // The agent's own output outlives its container: a crash says why only there.
      const lines = await docker.logs(container);
      if (lines.length > 0) {
        mkdirSync(agentLogsDir(options.workRoot), { recursive: true, mode: 0o700 });
        writeFileSync(join(agentLogsDir(options.workRoot), `${jobId}.log`), `${lines.join('\n')}\n`, { mode: 0o600 });
      }
      await remove(container);
      await remove(plexContainerName(jobId));
      if (!keep) {
        rmSync(workDir, { recursive: true, force: true });
        rmSync(plexFoldersOf(options.workRoot, jobId).root, { recursive: true, force: true });
      }
    },
    async list() {
      const filters = encodeURIComponent(JSON.stringify({ label: [JOB_LABEL] }));
      const listed = await docker.expect('list the agent containers', 'GET', `/containers/json?all=true&filters=${filters}`, [200]);
      return (JSON.parse(listed.body) as { Names: string[]; Labels: Record<string, string> }[])
        .map((c) => ({ jobId: c.Labels[JOB_LABEL]!, name: c.Names[0]!.replace(/^\//, '') }))
        .filter((c) => c.jobId && c.name === `plexlift-agent-${c.jobId}`)
        .map(({ jobId, name }) => ({ jobId, resource: { jobId, container: name, workDir: join(options.workRoot, jobId) } }));
    },
  };
}

/** The agent's image: the config's, or the one scripts/build-agent-image.sh builds for this version. */
function agentImageOf(config: DockerProviderConfig): string {
  return config.image ?? `plexlift/agent:${VERSION}`;
}

/** Whether the engine confines containers with AppArmor (`docker info`'s security options). */
async function hasAppArmor(docker: DockerApi): Promise<boolean> {
  const info = await docker.expect('read the engine info', 'GET', '/info', [200]);
  return ((JSON.parse(info.body) as { SecurityOptions?: string[] }).SecurityOptions ?? []).some((option) => option.includes('name=apparmor'));
}

async function hasImage(docker: DockerApi, image: string): Promise<boolean> {
  return (await docker.call('GET', `/images/${encodeURIComponent(image)}/json`)).status === 200;
}

function missingImage(image: string): PlexliftError {
  return new PlexliftError('CONFIG_INVALID', `providers.docker.image: ${image} is not on this Docker; build it with scripts/build-agent-image.sh`);
}

/** `plexlift doctor`: the engine answers and holds the agent's image. */
export async function checkDockerProvider(config: DockerProviderConfig): Promise<string> {
  const docker = new DockerApi(config.socketPath);
  const image = agentImageOf(config);
  const present = await hasImage(docker, image).catch((error: unknown) => {
    throw new Error(`providers.docker.socketPath: ${(error as Error).message}`, { cause: error });
  });
  if (!present) throw missingImage(image);
  return `agent image ${image}; Plex from ${config.plexImage} at the home's version`;
}
