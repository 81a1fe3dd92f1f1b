import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { recordedLocalImages, recordedServer, recordedServerTypes, recordedVolume } from './cassettes.js';

/** A running "VM" the sim booted; stopped when the server is terminated, deleted or powered off. */
export interface BootedVm {
  stop(): Promise<void>;
}

export interface SimServerView {
  id: string;
  name: string;
  zone: string;
  tags: string[];
  commercialType: string;
  state: string;
  /** The security group the server is behind. */
  securityGroupId: string;
}

/** The API key the double knows, as a user puts it in `providers.scaleway` (or the SCW_* variables). */
export const SIM_KEYS = { accessKey: 'SCW7K2M9Q4T8W1X5Z3B6', secretKey: '7d3f1c52-0b8e-4a6f-9c1d-2e5b8a4f6c90' };

export interface ScalewaySimOptions {
  /**
   * The project's secret key: a request whose `X-Auth-Token` is another, or has none, is refused
   * with the API's recorded 401 (reference/scaleway.md, errors). @default SIM_KEYS.secretKey
   */
  secretKey?: string;
  /** Multiplies the recorded timings (create 0.8 s, power-on 5.5 s, terminate 8 s, volume detach 6 s, power-off 36 s). @default 0.02 */
  timeScale?: number;
  /** The guest booting: called when a server reaches `running`, with its user data. */
  boot?: (server: SimServerView, userData: ReadonlyMap<string, string>) => Promise<BootedVm>;
  port?: number;
}

/** Faults the next calls meet; tests set and clear them. */
export interface SimFaults {
  /** Creates answer 403 `quotas_exceeded`. */
  quotaExceeded?: boolean;
  /** These types are out of stock: availability `shortage`, creates answer 503 `out_of_stock`. */
  outOfStock?: string[];
  /** The next N requests answer 503 from the gateway (HTML, as a load balancer does). */
  gatewayErrors?: number;
  /** The next N creates make the server, then answer 500 (the caller cannot know it exists). */
  createdThenFailed?: number;
  /** A power-on leaves the server in `starting` / `allocating node` for good (a node never allocated). */
  neverBoot?: boolean;
  /** A server asked to stop (terminate, poweroff, stop_in_place) stays in `stopping` for good. */
  neverStop?: boolean;
  /** Servers Scaleway locks (by id): state `locked`, no action allowed, no delete, from their next request on. */
  locked?: string[];
  /** Block's PATCH of a volume (tags) answers this status, with a body in Scaleway's error shape. */
  volumeUpdateRefused?: 404 | 405;
}

export interface SimSecurityGroupView {
  id: string;
  name: string;
  zone: string;
  tags: string[];
  inboundDefaultPolicy: string;
  outboundDefaultPolicy: string;
  stateful: boolean;
  projectDefault: boolean;
  /** Ids of the servers that use it. */
  servers: string[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  body: string;
  status: number;
  /** When it arrived (`Date.now()`). */
  at: number;
}

/** A server's life, for billing: Scaleway bills an Instance from its creation to its deletion (reference §3). */
export interface SimBilledServer {
  id: string;
  name: string;
  createdAt: number;
  /** When it left the API (a DELETE, or the end of a terminate); absent while it exists. */
  deletedAt?: number;
}

export interface ScalewaySim {
  url: string;
  faults: SimFaults;
  requests: RecordedRequest[];
  /** Guests that failed to boot (their cloud-init), with why. */
  bootErrors: string[];
  servers(): SimServerView[];
  volumes(): { id: string; status: string; zone: string }[];
  ips(): { id: string; zone: string; tags: string[] }[];
  /** Every server ever created, with when it was created and deleted. */
  billing(): SimBilledServer[];
  /** Security groups, the zone's default one (made on first use, as the API does) included. */
  securityGroups(): SimSecurityGroupView[];
  /** Stops every booted VM and the HTTP server. */
  close(): Promise<void>;
}

interface Server {
  body: Record<string, unknown>;
  userData: Map<string, string>;
  vm?: BootedVm | undefined;
  timers: NodeJS.Timeout[];
}

const LABELS = new Set([
  'ubuntu_noble',
  'ubuntu_jammy',
  'ubuntu_focal',
  'debian_bookworm',
  'debian_trixie',
  'debian_bullseye',
  'docker',
  'fedora_43',
  'rockylinux_9',
  'almalinux_9',
  'centos_stream_9',
]);
const SECURITY_GROUP_QUOTA = 99_999;
// stopInPlace is not recorded (no cassette stops a server in place): a guess of the same order as a poweroff's first seconds.
const TIMINGS = { create: 800, poweron: 5_500, booted: 20_000, terminate: 8_000, poweroff: 36_000, detach: 6_000, stopInPlace: 10_000 };

/**
 * A double of the Scaleway Instance, Block and Marketplace APIs the provider calls, built from the
 * recorded traffic in `test/fixtures/scaleway`: the same bodies (a real server, volume,
 * catalogue and image list as templates), the same transport (exactly `application/json`, 204
 * with no body, `text/plain` user data, `X-Total-Count` instead of a total in Instance lists), the
 * state machine and timings of the cassettes (scaled), their error bodies, and what the real API
 * leaves behind: SBS volumes `available` after a terminate or delete, flexible IPs kept.
 * On `running` it boots the guest through `options.boot` with the server's user data.
 */
export async function startScalewaySim(options: ScalewaySimOptions = {}): Promise<ScalewaySim> {
  const scale = options.timeScale ?? 0.02;
  const after = (ms: number) => Math.max(1, Math.round(ms * scale));
  const types = recordedServerTypes();
  const servers = new Map<string, Server>();
  const volumes = new Map<string, Record<string, unknown>>();
  const ips = new Map<string, Record<string, unknown>>();
  const securityGroups = new Map<string, Record<string, unknown>>();
  const faults: SimFaults = {};
  const requests: RecordedRequest[] = [];
  const bootErrors: string[] = [];
  const billing = new Map<string, SimBilledServer>();
  const project = '105bdce1-64c0-48ab-899d-868455867ecf';
  const now = () => new Date().toISOString().replace('Z', '+00:00');

  const json = (res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) => {
    if (body === undefined) {
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
      return void res.end();
    }
    const text = JSON.stringify(body);
    // Exactly application/json: the SDK parses nothing else (a charset makes it throw).
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };
  const notFound = (res: ServerResponse, resource: string, id: string) =>
    json(res, 404, { type: 'not_found', message: 'resource is not found', resource, resource_id: id });
  const invalid = (res: ServerResponse, message: string) => json(res, 400, { type: 'invalid_request_error', message });

  function setState(server: Server, state: string, detail: string) {
    const allowed: Record<string, string[]> = {
      stopped: ['poweron', 'backup'],
      starting: ['stop_in_place', 'backup'],
      running: ['poweroff', 'terminate', 'reboot', 'stop_in_place', 'backup'],
      stopping: ['stop_in_place', 'backup'],
      // Not recorded (no cassette reaches `stopped in place`): taken to be as `stopped`.
      'stopped in place': ['poweron', 'backup'],
    };
    Object.assign(server.body, { state, state_detail: detail, allowed_actions: allowed[state] ?? [], modification_date: now() });
  }

  function detachVolumes(server: Server) {
    for (const entry of Object.values(server.body.volumes as Record<string, { id: string }>)) {
      const volume = volumes.get(entry.id);
      if (!volume) continue;
      volume.references = (volume.references as Record<string, unknown>[]).map((r) => ({ ...r, status: 'detaching' }));
      setTimeout(() => {
        if (!volumes.has(entry.id)) return;
        Object.assign(volume, { references: [], status: 'available', last_detached_at: new Date().toISOString(), updated_at: new Date().toISOString() });
      }, after(TIMINGS.detach)).unref();
    }
  }

  /** The server leaves the API (a DELETE, or the end of a terminate): its billing ends. */
  function removeServer(server: Server) {
    const id = server.body.id as string;
    servers.delete(id);
    for (const timer of server.timers) clearTimeout(timer);
    const billed = billing.get(id);
    if (billed) billed.deletedAt = Date.now();
  }

  async function stopVm(server: Server) {
    const vm = server.vm;
    server.vm = undefined;
    await vm?.stop();
  }

  function view(server: Server): SimServerView {
    const b = server.body;
    return {
      id: b.id as string,
      name: b.name as string,
      zone: b.zone as string,
      tags: b.tags as string[],
      commercialType: b.commercial_type as string,
      state: b.state as string,
      securityGroupId: (b.security_group as { id: string }).id,
    };
  }

  /**
   * Instance security groups, as https://www.scaleway.com/en/developers/api/instance/security-groups
   * documents them (SDK `Instancev1.API.createSecurityGroup/listSecurityGroups/deleteSecurityGroup`):
   * inbound and outbound default policies `accept` or `drop`, stateful unless said otherwise,
   * listed by exact tags. Each zone has an auto-generated default group that every server created
   * without `security_group` joins, and that accepts everything inbound
   * (https://www.scaleway.com/en/docs/compute/instances/how-to/use-security-groups/). A group
   * still used by a server cannot be deleted: 409 `{"message": "Group is in use. You cannot
   * delete it.", "type": "conflict"}` (the body scaleway-sdk-js's and scaleway-sdk-go's error
   * tests carry, and scaleway-cli's security-group delete matches on).
   */
  function securityGroupBody(group: Record<string, unknown>): Record<string, unknown> {
    const users = [...servers.values()]
      .filter((server) => (server.body.security_group as { id: string } | null)?.id === group.id)
      .map((server) => ({ id: server.body.id, name: server.body.name }));
    return { ...group, servers: users };
  }

  function createSecurityGroupFrom(zone: string, input: Record<string, unknown>): Record<string, unknown> | string {
    for (const key of ['inbound_default_policy', 'outbound_default_policy']) {
      if (input[key] !== undefined && input[key] !== 'accept' && input[key] !== 'drop') return `${key}: must be accept or drop`;
    }
    if (input.stateful !== undefined && typeof input.stateful !== 'boolean') return 'stateful: must be a boolean';
    const group = {
      id: randomUUID(),
      name: typeof input.name === 'string' && input.name ? input.name : `sg-${randomUUID().slice(0, 8)}`,
      description: input.description ?? '',
      enable_default_security: input.enable_default_security ?? true,
      inbound_default_policy: input.inbound_default_policy ?? 'accept',
      outbound_default_policy: input.outbound_default_policy ?? 'accept',
      organization: project,
      project: input.project ?? project,
      tags: input.tags ?? [],
      project_default: input.project_default ?? false,
      creation_date: now(),
      modification_date: now(),
      stateful: input.stateful ?? true,
      state: 'available',
      zone,
    };
    securityGroups.set(group.id, group);
    return group;
  }

  function defaultSecurityGroup(zone: string): Record<string, unknown> {
    const found = [...securityGroups.values()].find((g) => g.zone === zone && g.project_default === true);
    if (found) return found;
    return createSecurityGroupFrom(zone, {
      name: 'Default security group',
      description: 'Auto generated security group.',
      stateful: true,
      project_default: true,
    }) as Record<string, unknown>;
  }

  function createServerFrom(zone: string, body: Record<string, unknown>, res: ServerResponse): Server | undefined {
    const missing = ['commercial_type', 'image', 'volumes'].filter((key) => body[key] === undefined);
    if (missing.length > 0) {
      json(res, 400, {
        type: 'invalid_arguments',
        message: 'invalid argument(s)',
        details: missing.map((argument_name) => ({ argument_name, reason: 'required', help_message: 'required key not provided' })),
      });
      return undefined;
    }
    const type = String(body.commercial_type);
    if (!types[type]) {
      json(res, 400, {
        type: 'invalid_arguments',
        message: 'invalid argument(s)',
        details: [{ argument_name: 'commercial_type', reason: 'constraint', help_message: `${type} is not a valid commercial type` }],
      });
      return undefined;
    }
    if (faults.quotaExceeded) {
      json(res, 403, {
        type: 'quotas_exceeded',
        message: 'quota(s) exceeded for this resource',
        details: [{ resource: `instances_${type.toLowerCase().replace(/-/g, '_')}`, quota: 0, current: 0, project_id: project }],
      });
      return undefined;
    }
    if (faults.outOfStock?.includes(type)) {
      json(res, 503, { type: 'out_of_stock', message: 'out of stock', resource: type });
      return undefined;
    }
    const asked = body.security_group as string | undefined;
    const group = asked === undefined ? defaultSecurityGroup(zone) : securityGroups.get(asked);
    if (!group || group.zone !== zone) {
      notFound(res, 'instance_security_group', String(asked));
      return undefined;
    }
    const image = allLocalImages(zone).find((i) => i.id === body.image);
    if (!image) {
      notFound(res, 'instance_image', String(body.image));
      return undefined;
    }
    if (!(image.compatible_commercial_types as string[]).includes(type)) {
      invalid(res, `image ${String(image.id)} is not compatible with ${type}`);
      return undefined;
    }
    const id = randomUUID();
    const root = (body.volumes as Record<string, { size?: number }>)['0'];
    const volumeId = randomUUID();
    volumes.set(volumeId, {
      ...structuredClone(recordedVolume()),
      id: volumeId,
      name: `${String(image.label)}_sbs_volume_0`,
      size: root?.size ?? 10_000_000_000,
      project_id: project,
      created_at: new Date().toISOString(),
      references: [
        {
          id: randomUUID(),
          product_resource_type: 'instance_server',
          product_resource_id: id,
          created_at: new Date().toISOString(),
          type: 'exclusive',
          status: 'attached',
        },
      ],
      status: 'in_use',
      tags: [],
      zone,
    });
    const template = structuredClone(recordedServer());
    const server: Server = {
      body: {
        ...template,
        id,
        name: body.name ?? `srv-${id.slice(0, 8)}`,
        hostname: body.name ?? `srv-${id.slice(0, 8)}`,
        commercial_type: type,
        arch: image.arch,
        tags: body.tags ?? [],
        dynamic_ip_required: body.dynamic_ip_required ?? true,
        protected: body.protected ?? false,
        project: body.project ?? project,
        image: { ...(template.image as Record<string, unknown>), id: image.id, arch: image.arch, zone },
        volumes: { '0': { boot: false, volume_type: 'sbs_volume', id: volumeId, state: 'available', zone } },
        public_ips: [],
        public_ip: null,
        security_group: { id: group.id, name: group.name },
        creation_date: now(),
        zone,
      },
      userData: new Map(),
      timers: [],
    };
    setState(server, 'stopped', '');
    servers.set(id, server);
    billing.set(id, { id, name: server.body.name as string, createdAt: Date.now() });
    return server;
  }

  function allLocalImages(zone: string): Record<string, unknown>[] {
    return [...LABELS].flatMap((label) => localImages(label, zone));
  }

  /** Per label and zone, an arm64 and an x86_64 image (ids are per zone), as the recorded list has. */
  function localImages(label: string, zone: string): Record<string, unknown>[] {
    if (!LABELS.has(label)) return [];
    return recordedLocalImages().map((entry) => {
      const digest = createHash('sha256')
        .update(`${label}/${zone}/${String(entry.arch)}`)
        .digest('hex');
      const id = `${digest.slice(0, 8)}-${digest.slice(8, 12)}-4${digest.slice(13, 16)}-8${digest.slice(17, 20)}-${digest.slice(20, 32)}`;
      return { ...entry, id, zone, label };
    });
  }

  async function action(server: Server, name: string, res: ServerResponse) {
    const state = server.body.state as string;
    // A transitional state refuses what its allowed_actions leave out (it allows stop_in_place, as recorded).
    if ((state === 'starting' || state === 'stopping') && !(server.body.allowed_actions as string[]).includes(name)) {
      return json(res, 409, {
        type: 'transient_state',
        message: 'resource is in a transient state',
        resource: 'instance_server',
        resource_id: server.body.id,
        current_state: state,
      });
    }
    if (!(server.body.allowed_actions as string[]).includes(name)) {
      return invalid(res, name === 'terminate' ? 'server should be running' : `action ${name} is not allowed while the server is ${state}`);
    }
    const task = {
      id: randomUUID(),
      description: name === 'poweron' ? 'server_batch_poweron' : `server_${name}`,
      status: 'pending',
      href_from: `/servers/${String(server.body.id)}/action`,
      href_result: `/servers/${String(server.body.id)}`,
      started_at: now(),
      terminated_at: null,
      progress: 0,
      zone: server.body.zone,
    };
    json(res, 202, { task }, { Location: `/instance/v1/zones/${String(server.body.zone)}/tasks/${task.id}` });
    const later = (ms: number, work: () => void | Promise<void>) => server.timers.push(setTimeout(() => void work(), after(ms)));
    if (name === 'poweron') {
      setState(server, 'starting', 'allocating node');
      if (faults.neverBoot) return;
      later(TIMINGS.poweron, async () => {
        if (!servers.has(server.body.id as string)) return;
        setState(server, 'running', 'booting kernel');
        if (server.body.dynamic_ip_required) {
          server.body.public_ips = [
            {
              id: randomUUID(),
              address: `51.15.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`,
              dynamic: true,
              gateway: '62.210.0.1',
              netmask: '32',
              family: 'inet',
              provisioning_mode: 'dhcp',
              tags: [],
              state: 'attached',
              ipam_id: randomUUID(),
            },
          ];
        }
        later(TIMINGS.booted, () => {
          if (server.body.state === 'running') server.body.state_detail = 'booted';
        });
        // A guest that does not come up is what a real VM does too: the API says running, no agent calls.
        if (options.boot)
          server.vm = await options.boot(view(server), server.userData).catch((error: unknown) => {
            bootErrors.push(`${String(server.body.name)}: ${(error as Error).message}`);
            return undefined;
          });
      });
    } else if (name === 'terminate') {
      setState(server, 'stopping', 'terminating');
      await stopVm(server);
      if (faults.neverStop) return;
      later(TIMINGS.terminate, () => {
        removeServer(server);
        detachVolumes(server);
      });
    } else if (name === 'poweroff') {
      setState(server, 'stopping', 'stopping');
      await stopVm(server);
      if (faults.neverStop) return;
      later(TIMINGS.poweroff, () => {
        setState(server, 'stopped', '');
        server.body.public_ips = [];
      });
    } else if (name === 'stop_in_place') {
      // Already on its way down (a terminate or a poweroff): nothing more to do.
      if (state === 'stopping') return;
      // From `starting` too: the power-on in progress is abandoned (the node stays allocated, billed like running).
      for (const timer of server.timers.splice(0)) clearTimeout(timer);
      setState(server, 'stopping', 'stopping in place');
      await stopVm(server);
      if (faults.neverStop) return;
      later(TIMINGS.stopInPlace, () => setState(server, 'stopped in place', ''));
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams, body: string): Promise<void> {
    const parts = path.split('/').filter(Boolean);
    const parse = () => (body ? (JSON.parse(body) as Record<string, unknown>) : {});
    // /marketplace/v2/local-images
    if (path === '/marketplace/v2/local-images' && req.method === 'GET') {
      const label = query.get('image_label') ?? '';
      const zone = query.get('zone') ?? 'fr-par-1';
      const found = localImages(label, zone).map((image) => ({ ...image, type: query.get('type') ?? image.type }));
      if (found.length === 0) return json(res, 404, { message: 'resource is not found', resource: 'MarketplaceImage', resource_id: label, type: 'not_found' });
      return json(res, 200, { local_images: found, total_count: found.length });
    }
    // /block/v1/zones/{zone}/volumes[/{id}]
    if (parts[0] === 'block' && parts[1] === 'v1' && parts[4] === 'volumes') {
      const zone = parts[3]!;
      if (parts.length === 5 && req.method === 'GET') {
        const tags = query.get('tags')?.split(',') ?? [];
        const list = [...volumes.values()].filter(
          (v) =>
            v.zone === zone &&
            tags.every((t) => (v.tags as string[]).includes(t)) &&
            (!query.get('product_resource_id') ||
              (v.references as { product_resource_id: string }[]).some((r) => r.product_resource_id === query.get('product_resource_id'))),
        );
        return json(res, 200, { volumes: list, total_count: list.length });
      }
      const volume = volumes.get(parts[5] ?? '');
      if (!volume || volume.zone !== zone)
        return json(res, 404, { message: 'resource is not found', resource: 'volume', resource_id: parts[5], type: 'not_found' });
      if (req.method === 'GET') return json(res, 200, volume);
      if (req.method === 'PATCH') {
        // Block's "Update a volume" (name, tags, size): in no recorded cassette; documented by Scaleway in
        // https://www.scaleway.com/en/docs/block-storage/api-cli/increasing-volume-size (reference:
        // https://www.scaleway.com/en/developers/api/block/) and the SDK's Blockv1.API.updateVolume.
        if (faults.volumeUpdateRefused === 405) return json(res, 405, { type: 'method_not_allowed', message: 'method not allowed' });
        if (faults.volumeUpdateRefused === 404)
          return json(res, 404, { message: 'resource is not found', resource: 'volume', resource_id: parts[5], type: 'not_found' });
        const input = parse();
        if (Array.isArray(input.tags)) volume.tags = input.tags;
        if (typeof input.name === 'string') volume.name = input.name;
        return json(res, 200, volume);
      }
      if (req.method === 'DELETE') {
        if (volume.status === 'in_use')
          return json(res, 412, {
            type: 'precondition_failed',
            message: 'precondition is not respected',
            precondition: 'resource_still_in_use',
            help_message: 'volume is attached to a server',
          });
        volumes.delete(parts[5]!);
        return json(res, 204);
      }
    }
    // /instance/v1/zones/{zone}/…
    if (parts[0] !== 'instance' || parts[1] !== 'v1' || parts[2] !== 'zones' || !parts[3])
      return json(res, 404, { type: 'not_found', message: `no route ${req.method ?? ''} ${path}` });
    const zone = parts[3];
    const rest = parts.slice(4);
    if (rest[0] === 'products' && rest[1] === 'servers') {
      if (rest[2] === 'availability') {
        return json(res, 200, {
          servers: Object.fromEntries(Object.keys(types).map((t) => [t, { availability: faults.outOfStock?.includes(t) ? 'shortage' : 'available' }])),
        });
      }
      const names = Object.keys(types);
      const perPage = Number(query.get('per_page') ?? 50);
      const page = Number(query.get('page') ?? 1);
      const slice = names.slice((page - 1) * perPage, page * perPage);
      return json(res, 200, { servers: Object.fromEntries(slice.map((n) => [n, types[n]])) }, { 'X-Total-Count': String(names.length) });
    }
    if (rest[0] === 'ips') {
      if (rest.length === 1 && req.method === 'GET') {
        const tags = query.get('tags')?.split(',') ?? [];
        const list = [...ips.values()].filter((ip) => ip.zone === zone && tags.every((t) => (ip.tags as string[]).includes(t)));
        return json(res, 200, { ips: list }, { 'X-Total-Count': String(list.length) });
      }
      if (rest.length === 1 && req.method === 'POST') {
        const input = parse();
        const ip = {
          id: randomUUID(),
          address: `51.158.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`,
          prefix: null,
          reverse: null,
          server: null,
          type: input.type ?? 'routed_ipv4',
          state: 'detached',
          tags: input.tags ?? [],
          ipam_id: randomUUID(),
          project,
          zone,
        };
        ips.set(ip.id, ip);
        return json(res, 201, { ip });
      }
      const ip = ips.get(rest[1] ?? '');
      if (!ip) return notFound(res, 'instance_ip', rest[1] ?? '');
      if (req.method === 'GET') return json(res, 200, { ip });
      if (req.method === 'DELETE') {
        ips.delete(rest[1]!);
        return json(res, 204);
      }
    }
    if (rest[0] === 'security_groups') {
      if (rest.length === 1 && req.method === 'GET') {
        // name is a substring filter and tags must all match, as for servers; total in a header.
        const name = query.get('name');
        const tags = query.get('tags')?.split(',') ?? [];
        const list = [...securityGroups.values()]
          .filter((g) => g.zone === zone && (!name || String(g.name).includes(name)) && tags.every((t) => (g.tags as string[]).includes(t)))
          .map(securityGroupBody);
        const perPage = Number(query.get('per_page') ?? 50);
        const page = Number(query.get('page') ?? 1);
        return json(res, 200, { security_groups: list.slice((page - 1) * perPage, page * perPage) }, { 'X-Total-Count': String(list.length) });
      }
      if (rest.length === 1 && req.method === 'POST') {
        // 99 999 per Organization (docs-content organization-quotas.mdx, "Instances Network").
        if (securityGroups.size >= SECURITY_GROUP_QUOTA)
          return json(res, 403, {
            type: 'quotas_exceeded',
            message: 'quota(s) exceeded for this resource',
            details: [{ resource: 'security_groups', quota: SECURITY_GROUP_QUOTA, current: securityGroups.size, project_id: project }],
          });
        const created = createSecurityGroupFrom(zone, parse());
        if (typeof created === 'string') return invalid(res, created);
        return json(res, 201, { security_group: securityGroupBody(created) });
      }
      const group = securityGroups.get(rest[1] ?? '');
      if (!group || group.zone !== zone) return notFound(res, 'instance_security_group', rest[1] ?? '');
      if (rest.length === 2 && req.method === 'GET') return json(res, 200, { security_group: securityGroupBody(group) });
      if (rest.length === 2 && req.method === 'DELETE') {
        if ((securityGroupBody(group).servers as unknown[]).length > 0)
          return json(res, 409, { message: 'Group is in use. You cannot delete it.', type: 'conflict' });
        if (group.project_default) return json(res, 409, { message: 'Group is default group. You cannot delete it.', type: 'conflict' });
        securityGroups.delete(rest[1]!);
        return json(res, 204);
      }
    }
    if (rest[0] === 'servers') {
      if (rest.length === 1 && req.method === 'POST') {
        const server = createServerFrom(zone, parse(), res);
        if (!server) return;
        await new Promise((resolve) => setTimeout(resolve, after(TIMINGS.create)));
        if ((faults.createdThenFailed ?? 0) > 0) {
          faults.createdThenFailed! -= 1;
          return json(res, 500, { type: 'internal_error', message: 'internal error' });
        }
        return json(res, 201, { server: server.body }, { Location: `/instance/v1/zones/${zone}/servers/${String(server.body.id)}` });
      }
      if (rest.length === 1 && req.method === 'GET') {
        // name is a substring filter (recorded), tags must all match; paged, total in a header only.
        const name = query.get('name');
        const tags = query.get('tags')?.split(',') ?? [];
        const list = [...servers.values()]
          .map((s) => s.body)
          .filter((b) => b.zone === zone && (!name || String(b.name).includes(name)) && tags.every((t) => (b.tags as string[]).includes(t)));
        const perPage = Number(query.get('per_page') ?? 50);
        const page = Number(query.get('page') ?? 1);
        return json(res, 200, { servers: list.slice((page - 1) * perPage, page * perPage) }, { 'X-Total-Count': String(list.length) });
      }
      const server = servers.get(rest[1] ?? '');
      if (!server || server.body.zone !== zone) return notFound(res, 'instance_server', rest[1] ?? '');
      if (faults.locked?.includes(rest[1]!) && server.body.state !== 'locked') {
        for (const timer of server.timers.splice(0)) clearTimeout(timer);
        setState(server, 'locked', '');
      }
      if (rest.length === 2 && req.method === 'GET') return json(res, 200, { server: server.body });
      if (rest.length === 2 && req.method === 'DELETE') {
        if (server.body.state !== 'stopped' && server.body.state !== 'stopped in place') return invalid(res, 'server should be stopped');
        removeServer(server);
        detachVolumes(server);
        return json(res, 204);
      }
      if (rest[2] === 'action' && req.method === 'POST') return action(server, String(parse().action), res);
      if (rest[2] === 'user_data') {
        const key = rest[3];
        if (!key && req.method === 'GET') return json(res, 200, { user_data: [...server.userData.keys()] });
        if (key && req.method === 'PATCH') {
          if (req.headers['content-type'] !== 'text/plain') return invalid(res, 'user data must be sent as text/plain');
          server.userData.set(key, body);
          res.writeHead(204, { 'Content-Type': 'text/plain' });
          return void res.end();
        }
        if (key && req.method === 'PUT') return json(res, 405, { type: 'method_not_allowed', message: 'method not allowed' });
        if (key && req.method === 'GET') {
          const value = server.userData.get(key);
          res.writeHead(value === undefined ? 404 : 200, { 'Content-Type': 'text/plain' });
          return void res.end(value ?? '');
        }
        if (key && req.method === 'DELETE') {
          server.userData.delete(key);
          return json(res, 204);
        }
      }
    }
    return json(res, 404, { type: 'not_found', message: `no route ${req.method ?? ''} ${path}` });
  }

  const http = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://sim');
      const body = Buffer.concat(chunks).toString();
      const record: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        contentType: req.headers['content-type'],
        body,
        status: 0,
        at: Date.now(),
      };
      requests.push(record);
      res.on('finish', () => (record.status = res.statusCode));
      // Every call carries the key (the SDK sends it as X-Auth-Token, beside an access key); a missing or unknown one is a 401.
      const key = req.headers['x-auth-token'];
      if (key !== (options.secretKey ?? SIM_KEYS.secretKey)) {
        return json(res, 401, { message: 'authentication is denied', method: 'api_key', reason: 'not_found', type: 'denied_authentication' });
      }
      if ((faults.gatewayErrors ?? 0) > 0) {
        faults.gatewayErrors! -= 1;
        res.writeHead(503, { 'Content-Type': 'text/html' });
        return void res.end('<html><body><h1>503 Service Unavailable</h1></body></html>');
      }
      route(req, res, url.pathname, url.searchParams, body).catch((error: unknown) => {
        if (!res.headersSent) json(res, 500, { type: 'internal_error', message: (error as Error).message });
      });
    });
  });
  await new Promise<void>((resolve) => http.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    faults,
    requests,
    bootErrors,
    servers: () => [...servers.values()].map(view),
    volumes: () => [...volumes.values()].map((v) => ({ id: v.id as string, status: v.status as string, zone: v.zone as string })),
    ips: () => [...ips.values()].map((ip) => ({ id: ip.id as string, zone: ip.zone as string, tags: ip.tags as string[] })),
    billing: () => [...billing.values()].map((entry) => ({ ...entry })),
    securityGroups: () =>
      [...securityGroups.values()].map((g) => ({
        id: g.id as string,
        name: g.name as string,
        zone: g.zone as string,
        tags: g.tags as string[],
        inboundDefaultPolicy: g.inbound_default_policy as string,
        outboundDefaultPolicy: g.outbound_default_policy as string,
        stateful: g.stateful as boolean,
        projectDefault: g.project_default as boolean,
        servers: (securityGroupBody(g).servers as { id: string }[]).map((s) => s.id),
      })),
    close: async () => {
      for (const server of servers.values()) {
        for (const timer of server.timers) clearTimeout(timer);
        await stopVm(server);
      }
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
