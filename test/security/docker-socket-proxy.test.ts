import { mkdirSync, symlinkSync, statSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DOCKER_PROXY_MAX_BODY, startDockerSocketProxy, type DockerSocketProxy } from '../../packages/controller/src/providers/docker-socket-proxy.js';
import type { DockerJobPolicy } from '../../packages/controller/src/providers/docker-request-filter.js';
import { createTempDir } from '../utils/temp-dir.js';

const PLEX = 'plexlift-plex-job-7';
const CREATED_ID = 'a'.repeat(64);

/**
 * An engine that answers every call (a create with an id, logs as a slow stream) and records
 * what reached it: the proxy's filter is the subject here, the real engine is in
 * test/agent/docker-plex-runtime.docker.test.ts.
 */
async function startEngine(socketPath: string): Promise<{ seen: string[]; bodies: string[]; close: () => Promise<void> }> {
  const seen: string[] = [];
  const bodies: string[] = [];
  const waits: ServerResponse[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    seen.push(`${req.method} ${req.url}`);
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => body && bodies.push(body));
    if (req.url?.includes('/wait')) {
      // As the engine does: the headers at once, the exit status once the container has run.
      res.writeHead(200, { 'Content-Type': 'application/json' }).flushHeaders();
      waits.push(res);
    } else if (req.url?.includes('/start')) {
      res.writeHead(204).end();
      for (const wait of waits.splice(0)) wait.end('{"StatusCode":0}');
    } else if (req.url?.includes('/containers/create')) {
      res.writeHead(201, { 'Content-Type': 'application/json' }).end(JSON.stringify({ Id: CREATED_ID, Warnings: [] }));
    } else if (req.url?.includes('/logs')) {
      res.writeHead(200, { 'Content-Type': 'application/vnd.docker.raw-stream' });
      res.write('first line\n');
      // The rest only after the client has seen the first: a buffering proxy would deadlock here.
      req.socket.once('close', () => undefined);
      setTimeout(() => res.end('last line\n'), 1_500).unref();
    } else {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    }
  });
  // An attach: the container echoes its input in capitals and, once the input ends, says bye.
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    seen.push(`${req.method} ${req.url} (upgraded)`);
    // As Docker's Go server does for a call that does not switch (any but an attach, or an attach of a
    // container that is gone, `logs=1` here): it answers, then reads the next request on the same connection.
    if (!req.url?.includes('/attach') || req.url.includes('logs=1')) {
      const next = (chunk: Buffer) => seen.push(`then ${chunk.toString().split('\r\n')[0]}`);
      socket.write('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
      if (head.length > 0) next(head);
      socket.on('data', next);
      // And closes it when the client has closed its side.
      socket.on('end', () => socket.end());
      return;
    }
    socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    socket.on('data', (chunk: Buffer) => socket.write(chunk.toString().toUpperCase()));
    socket.on('end', () => socket.end('bye'));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    seen,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Answer {
  status: number;
  body: string;
}

function call(socketPath: string, method: string, path: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = request({ socketPath, method, path, agent: false, headers: payload ? { 'Content-Type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    // A refused upload may be cut before its end: the answer came first.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' ? undefined : reject(error)));
    req.end(payload);
  });
}

/**
 * An upgrade request, then (once its answer began) a second request on the same connection, written
 * as is; the whole answer.
 */
function upgradeThenSmuggle(socketPath: string, upgrade: string, smuggled: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect({ path: socketPath }, () => socket.write(upgrade + smuggled));
    socket.once('data', () => socket.write(smuggled, () => undefined));
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('close', () => resolve(answer));
    socket.on('error', (error: NodeJS.ErrnoException) => (['EPIPE', 'ECONNRESET'].includes(error.code ?? '') ? undefined : reject(error)));
  });
}

/** One request written as is on a fresh connection; the whole answer. */
function rawRequest(socketPath: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect({ path: socketPath }, () => socket.write(text));
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe("a job's Docker socket proxy (real HTTP over unix sockets, a recording engine behind it)", () => {
  let proxy: DockerSocketProxy | undefined;
  let engine: Awaited<ReturnType<typeof startEngine>> | undefined;
  afterEach(async () => {
    await proxy?.close();
    await engine?.close();
  });

  const setUp = async () => {
    const dir = createTempDir('plexlift-docker-proxy-');
    const workDir = join(dir, 'job-7');
    for (const folder of ['plex', 'transcode']) mkdirSync(join(workDir, folder), { recursive: true });
    mkdirSync(join(dir, 'media'));
    engine = await startEngine(join(dir, 'engine.sock'));
    const policy: DockerJobPolicy = {
      plexContainer: PLEX,
      plexImage: 'plexinc/pms-docker',
      writableFolders: [join(workDir, 'plex'), join(workDir, 'transcode')],
      readOnlyFolders: [join(dir, 'media')],
    };
    proxy = await startDockerSocketProxy({ socketPath: join(dir, 'sockets', 'job-7', 'docker.sock'), enginePath: join(dir, 'engine.sock'), policy });
    const plexBody = {
      Image: 'plexinc/pms-docker:1.43.2.10687-563d026ea',
      Env: ['PLEX_UID=1000'],
      Labels: { 'org.plexlift.role': 'plex' },
      HostConfig: {
        NetworkMode: 'host',
        Binds: [`${policy.writableFolders[0]}:/config`, `${policy.writableFolders[1]}:/transcode`, `${join(dir, 'media')}:${join(dir, 'media')}:ro`],
        // What the docker CLI sends for everything it does not set: empty values pass.
        Privileged: false,
        MemorySwappiness: -1,
        RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
        CapAdd: null,
        Devices: [],
        LogConfig: { Type: '', Config: {} },
      },
    };
    return { dir, workDir, policy, plexBody, socket: proxy.socketPath, seen: engine.seen, bodies: engine.bodies };
  };

  it("forwards the job's Plex container calls (by name, by the id its create returned, any API version) and streams logs", async () => {
    const { socket, seen, plexBody, dir } = await setUp();
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'sockets', 'job-7')).mode & 0o777).toBe(0o700);
    expect((await call(socket, 'HEAD', '/_ping')).status).toBe(200);
    expect((await call(socket, 'GET', '/v1.47/version')).status).toBe(200);
    const created = await call(socket, 'POST', `/v1.47/containers/create?name=${PLEX}`, plexBody);
    expect(created).toMatchObject({ status: 201, body: expect.stringContaining(CREATED_ID) as unknown });
    expect((await call(socket, 'POST', `/v1.47/containers/${CREATED_ID.slice(0, 12)}/start`)).status).toBe(204);
    // What systeminformation (the agent's CPU monitor) writes.
    expect(await rawRequest(socket, `GET http:/containers/${PLEX}/stats?stream=0 HTTP/1.0\r\n\r\n`)).toMatch(/^HTTP\/1\.1 200 /);
    expect(await rawRequest(socket, 'GET http:/containers/json HTTP/1.0\r\n\r\n')).toMatch(/^HTTP\/1\.1 403 /);
    // A one-shot Plex SQLite run, unnamed (what `docker run --rm --network none` sends).
    const oneShot = {
      ...plexBody,
      HostConfig: {
        ...plexBody.HostConfig,
        NetworkMode: 'none',
        AutoRemove: true,
        Binds: [`${plexBody.HostConfig.Binds[0]!.split(':')[0]}:${plexBody.HostConfig.Binds[0]!.split(':')[0]}`],
      },
    };
    expect((await call(socket, 'POST', '/v1.47/containers/create', oneShot)).status).toBe(201);
    // `docker run`: the wait's headers first, then the start, then the wait's end.
    const waited = await new Promise<string>((resolve, reject) => {
      request({ socketPath: socket, method: 'POST', path: `/containers/${CREATED_ID}/wait?condition=removed`, agent: false }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve(text));
        void call(socket, 'POST', `/containers/${CREATED_ID}/start`);
      })
        .on('error', reject)
        .end();
    });
    expect(waited).toBe('{"StatusCode":0}');
    expect((await call(socket, 'GET', '/images/plexinc%2Fpms-docker:1.43.2.10687-563d026ea/json')).status).toBe(200);
    expect((await call(socket, 'POST', '/images/create?fromImage=plexinc%2Fpms-docker&tag=1.43.2.10687-563d026ea')).status).toBe(200);
    expect((await call(socket, 'DELETE', `/containers/${PLEX}?force=true&v=true`)).status).toBe(200);
    expect(seen).toHaveLength(11);
    expect(seen[4]).toBe(`GET /containers/${PLEX}/stats?stream=0`);

    // A following `logs`: the first line arrives while the engine still holds the rest.
    const first = await new Promise<string>((resolve, reject) => {
      request({ socketPath: socket, method: 'GET', path: `/containers/${PLEX}/logs?follow=true&stdout=true` }, (res) => {
        res.once('data', (chunk: Buffer) => {
          resolve(chunk.toString());
          res.destroy();
        });
      })
        .on('error', reject)
        .end();
    });
    expect(first).toBe('first line\n');
  });

  it("pipes an attach both ways, and the answer still comes back after the client's input ended (docker run -i)", async () => {
    const { socket, seen } = await setUp();
    const answer = await new Promise<string>((resolve, reject) => {
      let text = '';
      const client = connect({ path: socket, allowHalfOpen: true }, () => {
        client.write(
          `POST /v1.47/containers/${PLEX}/attach?stdin=1&stdout=1&stream=1 HTTP/1.1\r\nHost: api.moby.localhost\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`,
        );
        client.once('data', () => client.end('select 1;'));
      });
      client.on('data', (chunk: Buffer) => (text += chunk.toString()));
      client.on('end', () => resolve(text));
      client.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 101 UPGRADED\r\n[\s\S]*\r\n\r\nSELECT 1;bye$/);
    expect(seen).toEqual([`POST /v1.47/containers/${PLEX}/attach?stdin=1&stdout=1&stream=1 (upgraded)`]);
    const refused = await rawRequest(socket, 'POST /containers/other/attach?stdin=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    expect(refused).toMatch(/^HTTP\/1\.1 403 [\s\S]*only the job's own containers/);
  });

  it('refuses, with 403 and the refused field named, anything else: nothing reaches the engine', async () => {
    const { socket, seen, plexBody, workDir } = await setUp();
    const withHost = (extra: Record<string, unknown>) => ({ ...plexBody, HostConfig: { ...plexBody.HostConfig, ...extra } });
    const refused: [string, string, unknown, RegExp][] = [
      ['POST', '/containers/create?name=evil', plexBody, /a container named evil/],
      ['POST', `/containers/create?name=${PLEX}&name=evil`, plexBody, /a container named/],
      ['POST', '/containers/create', plexBody, /only a one-shot run \(HostConfig\.AutoRemove true, NetworkMode none\) may be unnamed/],
      ['POST', `/containers/create?name=${PLEX}`, { ...plexBody, Image: 'alpine:3' }, /the field Image \(alpine:3\)/],
      ['POST', `/containers/create?name=${PLEX}`, { ...plexBody, Image: 'plexinc/pms-docker' }, /the field Image/],
      ['POST', `/containers/create?name=${PLEX}`, withHost({ Privileged: true }), /the field HostConfig\.Privileged/],
      ['POST', `/containers/create?name=${PLEX}`, withHost({ CapAdd: ['SYS_ADMIN'] }), /the field HostConfig\.CapAdd/],
      ['POST', `/containers/create?name=${PLEX}`, withHost({ Devices: [{ PathOnHost: '/dev/sda' }] }), /the field HostConfig\.Devices/],
      ['POST', `/containers/create?name=${PLEX}`, withHost({ PidMode: 'host' }), /the field HostConfig\.PidMode/],
      ['POST', `/containers/create?name=${PLEX}`, withHost({ SecurityOpt: ['apparmor=unconfined'] }), /the field HostConfig\.SecurityOpt/],
      ['POST', `/containers/create?name=${PLEX}`, withHost({ Mounts: [{ Type: 'bind', Source: '/', Target: '/host' }] }), /the field HostConfig\.Mounts/],
      ['POST', `/containers/create?name=${PLEX}`, withHost({ NetworkMode: 'container:other' }), /the field HostConfig\.NetworkMode/],
      ['POST', `/containers/create?name=${PLEX}`, withHost({ Binds: ['/:/host'] }), /the field HostConfig\.Binds \(\/:\/host\)/],
      ['POST', `/containers/create?name=${PLEX}`, withHost({ Binds: ['/var/run/docker.sock:/var/run/docker.sock'] }), /HostConfig\.Binds/],
      ['POST', `/containers/create?name=${PLEX}`, withHost({ Binds: [`${workDir}/plex/../../..:/config`] }), /absolute, normalized paths only/],
      ['POST', `/containers/create?name=${PLEX}`, withHost({ Binds: [`${plexBody.HostConfig.Binds[2]!.replace(/:ro$/, '')}`] }), /media read-only/],
      ['POST', `/containers/create?name=${PLEX}`, { ...plexBody, Volumes: { '/data': {} } }, /the field Volumes/],
      ['POST', `/containers/create?name=${PLEX}`, 'x'.repeat(DOCKER_PROXY_MAX_BODY + 1), /a request body over/],
      ['GET', '/containers/json', undefined, /GET \/containers\/json/],
      ['GET', '/v1.47/containers/other/json', undefined, /only the job's own containers/],
      ['POST', `/containers/${PLEX}/exec`, { Cmd: ['sh'] }, /POST \/containers\/plexlift-plex-job-7\/exec/],
      ['POST', '/containers/other/stop', undefined, /only the job's own containers/],
      ['GET', `/containers/${PLEX}%2F..%2Fother/json`, undefined, /an encoded '\/'/],
      ['GET', `/containers/other/../${PLEX}/json`, undefined, /'\.\.'/],
      ['POST', '/images/create?fromSrc=http%3A%2F%2F127.0.0.1%2Fx&repo=plexinc%2Fpms-docker', undefined, /query parameter fromSrc/],
      ['POST', '/images/create?fromImage=alpine&tag=3', undefined, /a pull of alpine:3/],
      ['GET', '/images/alpine:3/json', undefined, /the image alpine:3/],
      ['POST', '/build', undefined, /POST \/build/],
      ['GET', '/info', undefined, /GET \/info/],
    ];
    for (const [method, path, body, message] of refused) {
      const answer = await call(socket, method, path, body);
      expect(answer.status, `${method} ${path} ${JSON.stringify(body)?.slice(-300)}`).toBe(typeof body === 'string' ? 413 : 403);
      expect((JSON.parse(answer.body) as { message: string }).message, `${method} ${path}`).toMatch(message);
    }
    expect(seen).toEqual([]);
  });

  it("refuses a bind of the job's folder once it was replaced by a link (the engine would follow it)", async () => {
    const { socket, seen, plexBody, policy, dir } = await setUp();
    const linked = join(dir, 'job-8-plex');
    symlinkSync('/', linked);
    const answer = await call(socket, 'POST', `/containers/create?name=${PLEX}`, plexBody);
    expect(answer.status).toBe(201);
    const swapped: DockerJobPolicy = { ...policy, writableFolders: [linked] };
    await proxy!.close();
    proxy = await startDockerSocketProxy({ socketPath: socket, enginePath: join(dir, 'engine.sock'), policy: swapped });
    const refused = await call(socket, 'POST', `/containers/create?name=${PLEX}`, {
      ...plexBody,
      HostConfig: { NetworkMode: 'host', Binds: [`${linked}:/config`] },
    });
    expect(refused.status).toBe(403);
    expect((JSON.parse(refused.body) as { message: string }).message).toMatch(/not a plain folder/);
    expect(seen).toHaveLength(1);
  });

  it('lets only an attach of its own container upgrade, and reads nothing after an upgrade the engine did not switch', async () => {
    const { socket, seen } = await setUp();
    const smuggled = 'POST /containers/create?name=evil HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}';
    const upgrade = (line: string) => `${line} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`;
    // An allowed call as an upgrade: the engine would answer it and read the smuggled create next.
    const ping = await upgradeThenSmuggle(socket, upgrade('GET /_ping'), smuggled);
    expect(ping).toMatch(/^HTTP\/1\.1 403 [\s\S]*an upgraded GET \/_ping \(only an attach\)/);
    // An attach the engine answers without switching: the bytes after it are never sent on.
    const attach = await upgradeThenSmuggle(socket, upgrade(`POST /containers/${PLEX}/attach?stdin=1&stream=1&logs=1`), smuggled);
    expect(attach).toMatch(/^HTTP\/1\.1 404 Not Found\r\n[\s\S]*Connection: close\r\n\r\n\{\}$/);
    expect(seen).toEqual([`POST /containers/${PLEX}/attach?stdin=1&stream=1&logs=1 (upgraded)`]);
  });

  it('forwards the create body it checked, not the bytes sent: a duplicate key cannot add what Go would merge', async () => {
    const { socket, bodies, plexBody } = await setUp();
    const image = JSON.stringify(plexBody.Image);
    const duplicated = `{"Image":${image},"HostConfig":{"Privileged":true,"Binds":["/:/host"]},"HostConfig":{"NetworkMode":"host"}}`;
    expect((await call(socket, 'POST', `/containers/create?name=${PLEX}`, duplicated)).status).toBe(201);
    expect(bodies).toEqual([JSON.stringify({ Image: plexBody.Image, HostConfig: { NetworkMode: 'host' } })]);
  });

  it('refuses a create field the engine would read in another spelling (Go matches keys case-insensitively)', async () => {
    const { socket, seen, plexBody } = await setUp();
    const withHost = (extra: Record<string, unknown>) => ({ ...plexBody, HostConfig: { ...plexBody.HostConfig, ...extra } });
    const refused: [unknown, RegExp][] = [
      [withHost({ RestartPolicy: { name: 'always' } }), /the field HostConfig\.RestartPolicy\.name: spelled Name only/],
      [
        withHost({ LogConfig: { type: 'syslog', config: { 'syslog-address': 'tcp://127.0.0.1:1' } } }),
        /the field HostConfig\.LogConfig\.type: spelled Type only/,
      ],
      [{ ...plexBody, NetworkingConfig: { endpointsconfig: { bridge: {} } } }, /the field NetworkingConfig\.endpointsconfig: spelled EndpointsConfig only/],
      [
        { ...plexBody, NetworkingConfig: { EndpointsConfig: { host: { NetworkID: 'other' } } } },
        /the field NetworkingConfig\.EndpointsConfig\.host\.NetworkID/,
      ],
      [{ ...plexBody, hostconfig: {} }, /the fields HostConfig and hostconfig \(the engine reads both as one field\)/],
      // The Kelvin sign folds to 'k' in Go.
      [{ ...plexBody, HostConfig: { 'Networ\u212AMode': 'container:other' } }, /the field HostConfig\.Networ\u212AMode: spelled NetworkMode only/],
    ];
    for (const [body, message] of refused) {
      const answer = await call(socket, 'POST', `/containers/create?name=${PLEX}`, body);
      expect(answer.status, JSON.stringify(body)).toBe(403);
      expect((JSON.parse(answer.body) as { message: string }).message).toMatch(message);
    }
    expect(seen).toEqual([]);
  });

  it('refuses a body on any call but a create: a form-encoded body would override the checked query', async () => {
    const { socket, seen } = await setUp();
    const pull = '/images/create?fromImage=plexinc%2Fpms-docker&tag=1.43.2.10687-563d026ea';
    const form = 'fromSrc=http%3A%2F%2F127.0.0.1%3A1%2Frootfs.tar&repo=plexinc%2Fpms-docker';
    const answer = await rawRequest(
      socket,
      `POST ${pull} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${form.length}\r\n\r\n${form}`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 403 [\s\S]*a request body on POST \/images\/create/);
    const chunked = await rawRequest(socket, `POST /containers/${PLEX}/start HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`);
    expect(chunked).toMatch(/^HTTP\/1\.1 403 [\s\S]*a request body on POST/);
    expect(seen).toEqual([]);
    // Without a body, the same pull goes through, and without the Content-Type that would say how to read one.
    expect((await call(socket, 'POST', pull)).status).toBe(200);
    expect(seen).toEqual([`POST ${pull}`]);
  });
});
