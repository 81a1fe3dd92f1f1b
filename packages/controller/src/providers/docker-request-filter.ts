import { lstatSync } from 'node:fs';
import { isAbsolute, normalize } from 'node:path';

/** What one job's agent may do with the Docker engine: its Plex container (and Plex SQLite runs), nothing else. */
export interface DockerJobPolicy {
  /** The job's Plex container: the only name a container may be created with. */
  plexContainer: string;
  /** The Plex image without its tag; any tag (the home's version) of it. */
  plexImage: string;
  /** Host folders a container may bind read-write: the job's Plex config and transcode folders. */
  writableFolders: string[];
  /** Host folders a container may bind read-only: the job's media. */
  readOnlyFolders: string[];
}

/** A request the filter lets through, or why not (a 403 with that message). */
export type DockerVerdict = { allowed: true; creates?: 'named' | 'one-shot' } | { allowed: false; message: string };

const refuse = (message: string): DockerVerdict => ({ allowed: false, message: `plexlift's Docker proxy refused: ${message}` });

/** `/v1.47/containers/…` and `/containers/…` are the same call. */
export function stripApiVersion(path: string): string {
  return path.replace(/^\/v\d+(\.\d+)?(?=\/)/, '');
}

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const CONTAINER_ACTIONS: Record<string, readonly string[]> = {
  POST: ['start', 'stop', 'kill', 'wait', 'restart', 'attach', 'resize'],
  GET: ['json', 'logs', 'stats', 'top'],
};

/**
 * Checks a request's method, path and query against the job's policy (the body of a create is
 * `checkCreateBody`'s). `knownIds` are the ids the engine gave the job's creates: the docker
 * CLI drives a container by id. Anything not listed here is refused.
 */
export function checkDockerRequest(policy: DockerJobPolicy, method: string, rawUrl: string, knownIds: ReadonlySet<string>): DockerVerdict {
  // Checked as sent (a URL parser would resolve '..' that the engine sees); a client may send the
  // absolute form (`http:/containers/…`, what systeminformation writes).
  const queryAt = rawUrl.indexOf('?');
  const raw = (queryAt < 0 ? rawUrl : rawUrl.slice(0, queryAt)).replace(/^http:(\/\/[^/]*)?/i, '');
  const search = queryAt < 0 ? '' : rawUrl.slice(queryAt);
  if (search.includes(';') || search.includes('#')) return refuse(`a query with ';' or '#' (${raw})`);
  if (!raw.startsWith('/')) return refuse(`the path ${raw}`);
  const segments = stripApiVersion(raw).split('/').slice(1);
  let decoded: string[];
  try {
    decoded = segments.map((segment) => decodeURIComponent(segment));
  } catch {
    return refuse(`a malformed path ${raw}`);
  }
  if (decoded.some((segment) => segment === '' || segment === '.' || segment === '..')) return refuse(`the path ${raw} (empty, '.' or '..' segments)`);
  // An image's name holds '/' (sent encoded or not); a container's name never does.
  if (method === 'GET' && decoded[0] === 'images' && decoded.length >= 3 && decoded.at(-1) === 'json') {
    const image = decoded.slice(1, -1).join('/');
    return isPlexImage(policy, image) ? { allowed: true } : refuse(`the image ${image}: only ${policy.plexImage}:<version>`);
  }
  if (decoded.some((segment) => segment.includes('/'))) return refuse(`the path ${raw} (an encoded '/')`);
  const path = `/${decoded.join('/')}`;
  const params = new URLSearchParams(search);
  const only = (...keys: string[]) => [...params.keys()].find((key) => !keys.includes(key));

  if ((method === 'GET' || method === 'HEAD') && path === '/_ping') return { allowed: true };
  if (method === 'GET' && path === '/version') return { allowed: true };
  if (method === 'POST' && path === '/containers/create') {
    const extra = only('name', 'platform');
    if (extra) return refuse(`the query parameter ${extra} of a container create`);
    const names = params.getAll('name');
    // Unnamed: a one-shot `Plex SQLite` run (`docker run --rm`, several at once), driven by the id its create returns.
    if (names.length === 0) return { allowed: true, creates: 'one-shot' };
    if (names.length !== 1 || names[0] !== policy.plexContainer)
      return refuse(`a container named ${names.join(', ')}: only ${policy.plexContainer} (or an unnamed one-shot run)`);
    return { allowed: true, creates: 'named' };
  }
  if (decoded[0] === 'containers' && decoded.length >= 2 && decoded.length <= 3) {
    const target = decoded[1]!;
    if (target !== policy.plexContainer && !isKnownId(target, knownIds)) return refuse(`${method} ${path}: only the job's own containers may be used`);
    if (decoded.length === 2) return method === 'DELETE' ? { allowed: true } : refuse(`${method} ${path}`);
    return CONTAINER_ACTIONS[method]?.includes(decoded[2]!) ? { allowed: true } : refuse(`${method} ${path}`);
  }
  if (method === 'POST' && path === '/images/create') {
    const extra = only('fromImage', 'tag', 'platform');
    if (extra) return refuse(`the query parameter ${extra} of an image pull`);
    const image = params.get('fromImage') ?? '';
    const tag = params.get('tag') ?? '';
    return image === policy.plexImage && TAG.test(tag) ? { allowed: true } : refuse(`a pull of ${image}:${tag}: only ${policy.plexImage}:<version>`);
  }
  return refuse(`${method} ${path}`);
}

/** The engine accepts an id's unique prefix; 12 hex digits is what the CLI prints. */
function isKnownId(reference: string, knownIds: ReadonlySet<string>): boolean {
  return /^[0-9a-f]{12,64}$/.test(reference) && [...knownIds].some((id) => id.startsWith(reference));
}

function isPlexImage(policy: DockerJobPolicy, reference: string): boolean {
  const at = reference.lastIndexOf(':');
  return at > 0 && reference.slice(0, at) === policy.plexImage && TAG.test(reference.slice(at + 1));
}

/** Keys of a create's body that may hold a value; any other key must be absent or empty (what the CLI sends by default). */
const CREATE_KEYS = [
  'Image',
  'Env',
  'Labels',
  'StopTimeout',
  'StopSignal',
  'Cmd',
  'Entrypoint',
  'User',
  'WorkingDir',
  'Tty',
  'OpenStdin',
  'StdinOnce',
  'AttachStdin',
  'AttachStdout',
  'AttachStderr',
  'HostConfig',
  'NetworkingConfig',
];
const HOST_CONFIG_KEYS = ['NetworkMode', 'Binds', 'AutoRemove', 'RestartPolicy', 'LogConfig', 'ConsoleSize', 'MemorySwappiness'];
const RESTART_POLICY_KEYS = ['Name', 'MaximumRetryCount'];
const LOG_CONFIG_KEYS = ['Type', 'Config'];
const NETWORKING_CONFIG_KEYS = ['EndpointsConfig'];

/** Whether a value says nothing: what the docker CLI fills unused fields with. */
function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return true;
  if (Array.isArray(value)) return value.every(isEmpty);
  // A map's keys carry meaning (`Volumes: {"/data": {}}`): only an empty one says nothing.
  if (typeof value === 'object') return Object.keys(value).length === 0;
  return false;
}

/**
 * How Go's encoding/json matches a JSON key to a struct field: case-insensitively, with Unicode
 * simple folding (the Kelvin sign is a 'k', 'ſ' an 's').
 */
function foldKey(key: string): string {
  return key.toLowerCase().replace(/\u017f/g, 's');
}

/**
 * One JSON object the engine decodes into a Go struct: the keys that may hold a value must be
 * spelled exactly (Go would also take `privileged` for `Privileged`, which a check by exact name
 * misses), no two keys may be the same field to Go, and any other key must be empty. Returns
 * the object, or why it is refused.
 */
function checkStruct(value: unknown, field: string, allowed: readonly string[]): Record<string, unknown> | string {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) return `the field ${field}: an object only`;
  const object = value as Record<string, unknown>;
  const prefix = field ? `${field}.` : '';
  const byFold = new Map(allowed.map((key) => [foldKey(key), key]));
  const seen = new Map<string, string>();
  for (const [key, item] of Object.entries(object)) {
    const folded = foldKey(key);
    const other = seen.get(folded);
    if (other !== undefined) return `the fields ${prefix}${other} and ${prefix}${key} (the engine reads both as one field)`;
    seen.set(folded, key);
    const canonical = byFold.get(folded);
    if (canonical !== undefined && canonical !== key) return `the field ${prefix}${key}: spelled ${canonical} only`;
    if (canonical === undefined && !isEmpty(item)) return `the field ${prefix}${key} of a container create`;
  }
  return object;
}

/**
 * The body of `POST /containers/create`: the Plex image, the host's or no network (none, and
 * removed when it ends, for an unnamed one-shot run), and binds of
 * the job's own folders only (media read-only); every other setting that would widen what the
 * container can do (privileges, capabilities, devices, namespaces, mounts, volumes) is refused,
 * named by its field.
 */
export function checkCreateBody(policy: DockerJobPolicy, body: unknown, kind: 'named' | 'one-shot' = 'named'): DockerVerdict {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return refuse('a container create whose body is not a JSON object');
  const config = checkStruct(body, '', CREATE_KEYS);
  if (typeof config === 'string') return refuse(config);
  if (typeof config.Image !== 'string' || !isPlexImage(policy, config.Image))
    return refuse(`the field Image (${String(config.Image)}): only ${policy.plexImage}:<version>`);
  for (const key of ['Env', 'Cmd', 'Entrypoint'] as const) {
    const value = config[key];
    if (value !== undefined && value !== null && !(Array.isArray(value) && value.every((item) => typeof item === 'string')) && typeof value !== 'string')
      return refuse(`the field ${key}: strings only`);
  }
  if (config.HostConfig === undefined || config.HostConfig === null) return refuse('the field HostConfig: missing (NetworkMode is required)');
  const hostConfig = checkStruct(config.HostConfig, 'HostConfig', HOST_CONFIG_KEYS);
  if (typeof hostConfig === 'string') return refuse(hostConfig);
  const network = hostConfig.NetworkMode;
  if (network !== 'host' && network !== 'none') return refuse(`the field HostConfig.NetworkMode (${String(network)}): host or none only`);
  // The docker CLI's default (the kernel's); a value would only tune swapping.
  if (![undefined, null, -1].includes(hostConfig.MemorySwappiness as number | null | undefined))
    return refuse('the field HostConfig.MemorySwappiness: the default only');
  // A one-shot run goes by itself when it ends (its input closes with the agent) and has no network.
  if (kind === 'one-shot' && (hostConfig.AutoRemove !== true || network !== 'none'))
    return refuse('a container named (none): only a one-shot run (HostConfig.AutoRemove true, NetworkMode none) may be unnamed');
  const restart = checkStruct(hostConfig.RestartPolicy, 'HostConfig.RestartPolicy', RESTART_POLICY_KEYS);
  if (typeof restart === 'string') return refuse(restart);
  if (!['', 'no', undefined, null].includes(restart.Name as string | undefined))
    return refuse(`the field HostConfig.RestartPolicy.Name (${String(restart.Name)}): no only`);
  const log = checkStruct(hostConfig.LogConfig, 'HostConfig.LogConfig', LOG_CONFIG_KEYS);
  if (typeof log === 'string') return refuse(log);
  if (!isEmpty(log.Type) || !isEmpty(log.Config)) return refuse('the field HostConfig.LogConfig: the engine default only');
  const networking = checkStruct(config.NetworkingConfig, 'NetworkingConfig', NETWORKING_CONFIG_KEYS);
  if (typeof networking === 'string') return refuse(networking);
  const endpoints = networking.EndpointsConfig ?? {};
  if (typeof endpoints !== 'object' || Array.isArray(endpoints)) return refuse('the field NetworkingConfig.EndpointsConfig: an object only');
  for (const [name, settings] of Object.entries(endpoints as Record<string, unknown>)) {
    // A network's name is a map key (matched exactly); its settings would only address a network the container is not on.
    if (name !== network) return refuse(`the field NetworkingConfig.EndpointsConfig (${name}): the container's NetworkMode only`);
    const endpoint = checkStruct(settings, `NetworkingConfig.EndpointsConfig.${name}`, []);
    if (typeof endpoint === 'string') return refuse(endpoint);
  }
  const binds = hostConfig.Binds ?? [];
  if (!Array.isArray(binds)) return refuse('the field HostConfig.Binds: a list of host:container[:ro] only');
  for (const bind of binds) {
    const problem = bindProblem(policy, bind);
    if (problem) return refuse(`the field HostConfig.Binds (${String(bind)}): ${problem}`);
  }
  return { allowed: true };
}

function bindProblem(policy: DockerJobPolicy, bind: unknown): string | undefined {
  if (typeof bind !== 'string') return 'not a string';
  const [source = '', target = '', options, ...rest] = bind.split(':');
  if (rest.length > 0 || (options !== undefined && options !== 'ro' && options !== 'rw')) return 'host:container[:ro] only';
  if (!isAbsolute(source) || normalize(source) !== source || !isAbsolute(target) || normalize(target) !== target) return 'absolute, normalized paths only';
  const readOnly = options === 'ro';
  if (!policy.writableFolders.includes(source) && !(readOnly && policy.readOnlyFolders.includes(source)))
    return `only the job's folders (${policy.writableFolders.join(', ')}) and its media read-only (${policy.readOnlyFolders.join(', ')})`;
  if (target !== source && target !== '/config' && target !== '/transcode') return 'mounted at /config, /transcode or its own path only';
  // The engine follows links in a bind's source: a job folder replaced by a link would bind the link's target.
  if (policy.writableFolders.includes(source)) {
    try {
      if (!lstatSync(source).isDirectory()) return 'the folder is not a plain folder';
    } catch {
      return 'the folder does not exist';
    }
  }
  return undefined;
}
