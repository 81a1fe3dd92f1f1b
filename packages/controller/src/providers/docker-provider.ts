import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PlexliftError, type DockerProviderConfig } from '@plexlift/shared';
import { DockerApi, dockerMessage, plexContainerName } from '@plexlift/shared/docker';
import { VERSION } from '../version.js';
import { agentArguments } from './agent-command.js';
import type { Provider, ProviderResource, ProvisionRequest } from './provider.js';

/** The label every agent container carries, with its job id: what `list` finds. */
const JOB_LABEL = 'org.plexlift.job';

interface DockerResource extends ProviderResource {
  jobId: string;
  container: string;
  workDir: string;
}

/**
 * The agent as a container on this machine's Docker (no cloud, no cost): host network (it calls
 * the controller on loopback), FUSE for its media mount, the Docker socket to run Plex in a
 * sibling container, and its work folder at the same path inside and out (the Plex container's
 * binds are paths of this host). Removed at teardown with its Plex container.
 */
export function createDockerProvider(options: { config: DockerProviderConfig; workRoot: string }): Provider {
  const { config } = options;
  const docker = new DockerApi(config.socketPath);
  const image = agentImageOf(config);

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
      const resource: DockerResource = { jobId: request.jobId, container: `plexlift-agent-${request.jobId}`, workDir };
      request.record(resource);
      mkdirSync(workDir, { recursive: true, mode: 0o700 });
      // The token in a file of the work folder, not in the container's environment (docker inspect shows that).
      writeFileSync(join(workDir, 'bootstrap-token'), `${request.bootstrapToken}\n`, { mode: 0o600 });
      const cmd = agentArguments({
        controllerUrl: request.controllerUrl,
        jobId: request.jobId,
        workDir,
        plex: { docker: { image: config.plexImage, url: config.plexUrl, env: config.plexEnv } },
        fingerprint: request.controllerTls?.fingerprint,
        tokenFile: join(workDir, 'bootstrap-token'),
        tuningFile: config.tuningFile,
      });
      await remove(resource.container);
      await docker.expect('create the agent container', 'POST', `/containers/create?name=${encodeURIComponent(resource.container)}`, [201], {
        Image: image,
        Cmd: cmd,
        Labels: { [JOB_LABEL]: request.jobId },
        HostConfig: {
          NetworkMode: 'host',
          Binds: [
            `${workDir}:${workDir}`,
            `${config.socketPath}:/var/run/docker.sock`,
            ...(config.tuningFile ? [`${config.tuningFile}:${config.tuningFile}:ro`] : []),
          ],
          // rclone mounts the media with FUSE inside the container.
          Devices: [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' }],
          CapAdd: ['SYS_ADMIN'],
          SecurityOpt: ['apparmor=unconfined'],
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
      return { exists: state?.Running === true, detail: `agent container ${container} ${state?.Status ?? '?'}` };
    },
    async teardown(resource, { keep }) {
      const { container, jobId, workDir } = resource as DockerResource;
      // The agent stops its Plex when asked (SIGTERM, its grace); then both go.
      await docker.call('POST', `/containers/${encodeURIComponent(container)}/stop?t=60`, undefined, 120_000);
      // The agent's own output outlives its container: a crash says why only there.
      const lines = await docker.logs(container);
      if (lines.length > 0) {
        mkdirSync(join(options.workRoot, 'logs'), { recursive: true, mode: 0o700 });
        writeFileSync(join(options.workRoot, 'logs', `${jobId}.log`), `${lines.join('\n')}\n`, { mode: 0o600 });
      }
      await remove(container);
      await remove(plexContainerName(jobId));
      if (!keep) rmSync(workDir, { recursive: true, force: true });
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
