import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseJobSpec } from '@plexlift/shared/protocol';
import { startController, type Controller } from '../../packages/controller/src/controller.js';
import { JobStore } from '../../packages/controller/src/store/job-store.js';
import { openStoreDatabase } from '../../packages/controller/src/store/schema.js';
import { freePort } from '../utils/free-port.js';
import { CLI_BIN, runCli, runCliOnTerminal } from '../utils/run-cli.js';
import { createTempDir } from '../utils/temp-dir.js';

const ADMIN = 'admin-secret-0123456789';

/** No stack trace, no help dump: one message and where the help is. */
function expectOneMessage(stderr: string): void {
  expect(stderr).not.toMatch(/\n\s+at |node:internal|Usage:/);
}

const spec = (jobId: string) =>
  parseJobSpec({ jobId, mode: 'delta', plex: { version: '1.43.2.10687-563d026ea' }, media: { mountPath: '/Media', remote: 's3:media' } });

describe('everyday mistakes get one clear line and the exit status of the table', () => {
  it('usage errors: a bad or missing option says so and points to the help, exit 2', async () => {
    for (const args of [
      ['serve', '--port', 'abc'],
      ['serve', '--port', '80000'],
      ['run', '--mode'],
    ]) {
      const result = await runCli(args);
      expect(result.status, args.join(' ')).toBe(2);
      expectOneMessage(result.stderr);
    }
    const port = await runCli(['serve', '--port', 'abc']);
    expect(port.stderr).toMatch(
      /^plexlift: option '--port <port>' argument 'abc' is invalid\. must be a whole number from 1 to 65535\.\n\(see plexlift serve --help\)\n$/,
    );
    expect((await runCli(['backups', 'prune', '--keep', '0'])).stderr).toMatch(/--keep <n>.*at least 1[\s\S]*see plexlift backups prune --help/);
  });

  it('config files: a folder, an unreadable file, a syntax error (line and column) and a wrong value are each said as what they are, exit 78', async () => {
    const dir = createTempDir();
    const folder = await runCli(['jobs', '--config', dir]);
    expect(folder).toMatchObject({ status: 78, stderr: `plexlift: config ${dir} is a folder, not a file\n` });

    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{\n  "server": {\n    "port": 7878,\n  }\n}\n');
    const syntax = await runCli(['jobs', '--config', broken]);
    expect(syntax).toMatchObject({ status: 78, stderr: expect.stringMatching(/config .*broken\.json: not valid JSON at line 4, column 3/) });

    const wrong = join(dir, 'wrong.json');
    writeFileSync(wrong, JSON.stringify({ server: { port: '8O80', tls: { enabled: 'yes' } }, nope: 1 }));
    const value = await runCli(['config', 'get', '--config', wrong]);
    expect(value.status).toBe(78);
    expect(value.stderr).toMatch(/server\.port: must be a number, not the text "8O80"/);
    expect(value.stderr).toMatch(/server\.tls\.enabled: must be a boolean, not the text "yes"/);
    expect(value.stderr).toMatch(/unknown key "nope"/);
    expect(value.stderr).not.toMatch(/Invalid input|expected/);

    // Unreadable: run as nobody (root reads everything).
    const secret = join(dir, 'secret.json');
    writeFileSync(secret, '{}', { mode: 0o600 });
    chmodSync(dir, 0o755);
    const unreadable = await asNobody(['jobs', '--config', secret]);
    expect(unreadable).toMatchObject({ status: 78, stderr: `plexlift: config ${secret} cannot be read (permission denied): run as its owner, or with sudo\n` });
    const unwritable = await asNobody(['config', 'set', 'server.port', '7879', '--config', secret]);
    expect(unwritable.status).toBe(78);
    expect(unwritable.stderr).toMatch(/plexlift: config .*secret\.json cannot be read \(permission denied\)/);
    const readOnly = join(dir, 'read-only.json');
    writeFileSync(readOnly, '{}', { mode: 0o644 });
    const denied = await asNobody(['config', 'set', 'server.port', '7879', '--config', readOnly]);
    expect(denied).toMatchObject({
      status: 78,
      stderr: `plexlift: config ${readOnly} cannot be written (permission denied: run as its owner, or with sudo); nothing was changed\n`,
    });
  });

  it('the daemon: not started is 8 for every command that needs it; a port in use is one line, exit 78', async () => {
    const dir = createTempDir();
    const port = await freePort();
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ server: { port, host: '127.0.0.1', stateDir: join(dir, 'state'), tls: { enabled: false } } }));
    for (const args of [['jobs'], ['status'], ['abort', 'job-x']]) {
      const result = await runCli([...args, '--config', config]);
      expect(result, args.join(' ')).toMatchObject({
        status: 8,
        stderr: expect.stringMatching(/the daemon has not started with this config .*start it with plexlift serve/),
      });
    }
    const listening = await listenOn(port);
    try {
      const taken = await runCli(['serve', '--config', config]);
      expect(taken).toMatchObject({
        status: 78,
        stderr: expect.stringMatching(new RegExp(`plexlift: server\\.port: port ${port} is in use \\(another plexlift serve\\?\\)`)),
      });
      expectOneMessage(taken.stderr);
    } finally {
      listening.close();
    }
  });

  it('serve --log-format json writes one JSON object per line (time, level, scope, msg) for a log collector', async () => {
    const dir = createTempDir();
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ server: { port: await freePort(), host: '127.0.0.1', stateDir: join(dir, 'state'), tls: { enabled: false } } }));
    const daemon = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CLI_BIN, 'serve', '--log-format', 'json', '--config', config], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    daemon.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
    await vi.waitFor(() => expect(log).toContain('plexlift listening'), { timeout: 30_000 });
    const exited = once(daemon, 'exit');
    daemon.kill('SIGTERM');
    await exited;
    const lines = log
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines[0]).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      level: 'info',
      msg: expect.stringMatching(/^plexlift listening on http:\/\/127\.0\.0\.1:\d+/),
    });
    expect(lines.every((line) => typeof line.msg === 'string' && ['info', 'warn', 'error'].includes(line.level as string))).toBe(true);
  });

  it('doctor: a local provider whose Plex command does not exist is a FIX line, not ok', async () => {
    const dir = createTempDir();
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        server: { stateDir: join(dir, 'state') },
        provider: 'local',
        providers: { local: { plexCommand: ['/nonexistent/Plex Media Server'] } },
      }),
    );
    const doctor = await runCli(['doctor', '--config', config]);
    expect(doctor.status).toBe(78);
    expect(doctor.stdout).toMatch(
      process.getuid?.() === 0
        ? /^FIX {2}provider local: providers\.local\.plexCommand: \/nonexistent\/Plex Media Server is not a program this machine can run$/m
        : /^FIX {2}provider local: the local provider needs root/m,
    );
  });

  it('config get and set agree: an unknown key is a wrong argument (2) and nothing is written', async () => {
    const file = join(createTempDir(), 'config.json');
    expect(await runCli(['config', 'set', 'server.prot', '1', '--config', file])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/no key server\.prot/),
    });
    expect(existsSync(file)).toBe(false);
    const set = await runCli(['config', 'set', 'server.port', '7879', '--json', '--config', file]);
    expect(JSON.parse(set.stdout)).toEqual({ key: 'server.port', path: file, set: true });
    expect(await runCli(['config', 'get', 'server.prot', '--config', file])).toMatchObject({ status: 2 });
  });
});

describe('against a running daemon', () => {
  const dir = mkdtempSync(join(tmpdir(), 'plexlift-test-'));
  let controller: Controller;
  const env = () => ({ PLEXLIFT_URL: controller.server.url, PLEXLIFT_TOKEN: ADMIN });
  beforeAll(async () => {
    controller = await startController({
      stateDir: join(dir, 'state'),
      adminToken: ADMIN,
      host: '127.0.0.1',
      agentJob: () => Promise.reject(new Error('no agent in this test')),
      control: { abort: () => Promise.resolve() },
    });
  });
  /** A job as `run` records it, not driven by anything. */
  const createJob = (id: string) =>
    controller.jobs.create({ id, library: 'home', provider: 'local', spec: spec(id), options: { keep: false, noInstall: false } });
  afterAll(async () => {
    await controller.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("version: the CLI's, the daemon's and its agents'; a daemon not reached is said, not an error", async () => {
    const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '../../packages/controller/package.json'), 'utf8')) as { version: string };
    const both = await runCli(['version', '--json'], { env: env() });
    expect(JSON.parse(both.stdout)).toEqual({
      cli: { version, protocol: expect.any(Number), node: process.version },
      daemon: { ok: true, version, agentVersion: version, protocol: expect.any(Number), node: process.version },
    });
    const alone = await runCli(['version'], { env: { PLEXLIFT_URL: `http://127.0.0.1:${await freePort()}`, PLEXLIFT_TOKEN: ADMIN } });
    expect(alone.status).toBe(0);
    expect(alone.stdout).toMatch(
      new RegExp(`^plexlift CLI ${version.replace(/\./g, '\\.')} \\(agent protocol \\d+, Node v[\\d.]+\\)\ndaemon: not reached \\(cannot reach`),
    );
  });

  it('abort of a job that ended says what state it is in and exits 2', async () => {
    const job = createJob('job-ended');
    controller.jobs.transition(job, 'queued', 'aborted', { error: { code: 'JOB_ABORTED', message: 'aborted: asked by the user' } });
    const again = await runCli(['abort', 'job-ended'], { env: env() });
    expect(again).toMatchObject({ status: 2, stderr: 'plexlift: job job-ended is aborted already; there is nothing to abort\n' });
    expect(await runCli(['abort', 'job-none'], { env: env() })).toMatchObject({ status: 2, stderr: 'plexlift: no job job-none\n' });
  });

  it('logs JOB | head -1: the reader stopping early is no error', async () => {
    const job = createJob('job-long-log');
    for (let i = 0; i < 3_000; i++) controller.jobs.appendEvent(job.id, `test:${i}`, { type: 'log', level: 'info', message: `line ${i} ${'x'.repeat(100)}` });
    const piped = await new Promise<{ stdout: string; stderr: string; statuses: string }>((resolve, reject) => {
      const command = `'${process.execPath}' --conditions=source --import tsx '${CLI_BIN}' logs job-long-log | head -1; echo "\${PIPESTATUS[*]}" >&2`;
      execFile('bash', ['-c', command], { env: { ...process.env, ...env() }, timeout: 60_000 }, (error, stdout, stderr) =>
        error
          ? reject(new Error(error.message))
          : resolve({ stdout, stderr: stderr.replace(/\n?(\d+ \d+)\n$/, ''), statuses: /(\d+ \d+)\n$/.exec(stderr)?.[1] ?? '' }),
      );
    });
    expect(piped.stdout).toMatch(/^\S+ \S+ info: line 0 x+\n$/);
    expect(piped.stderr).toBe('');
    expect(piped.statuses).toBe('0 0');

    // The conventions of log readers: the last N, from a time on, following.
    const tail = await runCli(['logs', 'job-long-log', '-n', '2'], { env: env() });
    expect(
      tail.stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => /line (\d+)/.exec(line)?.[1]),
    ).toEqual(['2998', '2999']);
    expect((await runCli(['logs', 'job-long-log', '--since', '1h', '--json'], { env: env() })).stdout.split('\n').filter(Boolean)).toHaveLength(3_000);
    expect((await runCli(['logs', 'job-long-log', '--since', '2099-01-01'], { env: env() })).stdout).toBe('');
    expect(await runCli(['logs', 'job-long-log', '--since', 'last week'], { env: env() })).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/--since <when>.*a duration back from now/),
    });
  });
});

describe('rollback and prune at home', () => {
  /** A home config, a store with one job in `state`, and three complete backups. */
  function homeWithJob(state: 'running' | 'installing' | 'verified-no-install' | 'none') {
    const dir = createTempDir();
    const stateDir = join(dir, 'state');
    const backups = join(dir, 'backups');
    for (const [i, when] of ['2026-12-01', '2026-12-02', '2026-12-03'].entries()) {
      mkdirSync(join(backups, `backup-${i}`), { recursive: true });
      writeFileSync(
        join(backups, `backup-${i}`, 'manifest.json'),
        JSON.stringify({
          version: 1,
          jobId: `job-${i}`,
          createdAt: `${when}T00:00:00.000Z`,
          databases: [],
          replaced: [],
          created: [],
          createdDirs: [],
          owner: { uid: 0, gid: 0 },
        }),
      );
    }
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        server: { stateDir },
        home: { plexDataDir: join(dir, 'pms'), control: { type: 'systemd', unit: 'plexmediaserver-test-none.service' }, backups: { dir: backups, keep: 1 } },
      }),
    );
    const db = openStoreDatabase(join(stateDir, 'plexlift.db'));
    const jobs = new JobStore(db);
    if (state !== 'none') {
      const job = jobs.create({
        id: 'job-live',
        library: 'home',
        provider: 'local',
        spec: spec('job-live'),
        options: { keep: false, noInstall: state === 'verified-no-install' },
      });
      const path: Record<typeof state, string[]> = {
        running: ['provisioning', 'running'],
        installing: ['provisioning', 'running', 'verified', 'installing'],
        'verified-no-install': ['provisioning', 'running', 'verified'],
      };
      let current = job;
      for (const next of path[state]) current = jobs.transition(current, current.state, next as never)!;
    }
    db.close();
    return { config, backups };
  }

  it('a rollback is refused while a job will install over it, and a prune while one installs; nothing changes', async () => {
    const running = homeWithJob('running');
    const refused = await runCli(['rollback', '--yes', '--config', running.config]);
    expect(refused).toMatchObject({
      status: 6,
      stderr:
        'plexlift: rollback refused: job job-live will install its library into home Plex when it ends (it is running); wait for it to end, or plexlift abort job-live first. Nothing was changed\n',
    });
    const installing = homeWithJob('installing');
    expect(await runCli(['rollback', '--yes', '--config', installing.config])).toMatchObject({
      status: 6,
      stderr: expect.stringMatching(/job job-live is installing its library into home Plex now/),
    });
    expect(await runCli(['backups', 'prune', '--yes', '--config', installing.config])).toMatchObject({
      status: 6,
      stderr: expect.stringMatching(/prune refused: job job-live is installing/),
    });
    expect(readdirSync(installing.backups)).toHaveLength(3);
    // A job run with --no-install that waits at home does not install by itself: a prune goes on.
    const waiting = homeWithJob('verified-no-install');
    const pruned = await runCli(['backups', 'prune', '--json', '--config', waiting.config]);
    expect(pruned.status, pruned.stderr).toBe(0);
    expect(JSON.parse(pruned.stdout)).toEqual({ removed: [join(waiting.backups, 'backup-0'), join(waiting.backups, 'backup-1')] });
  });

  it('on a terminal, a rollback and a prune ask first; anything but yes changes nothing', async () => {
    const home = homeWithJob('none');
    const prune = await runCliOnTerminal(['backups', 'prune', '--config', home.config], 'n\n');
    expect(prune.status, prune.output).toBe(0);
    expect(screen(prune.output)).toMatch(/Delete 2 backup\(s\): .*backup-0, .*backup-1\? \[y\/N\] n\nnothing was changed/);
    expect(readdirSync(home.backups)).toHaveLength(3);
    const rollback = await runCliOnTerminal(['rollback', '--config', home.config], '\n');
    expect(screen(rollback.output)).toMatch(
      /Put back .*backup-2 \(made 2026-12-03T00:00:00.000Z before job job-2\)\? Home Plex is stopped and started, and what it learnt since is lost\. \[y\/N\] \nnothing was changed/,
    );
    expect(rollback.status).toBe(0);
    const yes = await runCliOnTerminal(['backups', 'prune', '--config', home.config], 'y\n');
    expect(yes.output).toMatch(/removed .*backup-/);
    expect(readdirSync(home.backups)).toEqual(['backup-2']);
  });
});

/** What a terminal shows, without its cursor moves. */
// eslint-disable-next-line no-control-regex -- ESC is what a cursor move starts with
const screen = (output: string) => output.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

/** The CLI as the unprivileged user nobody, for permission errors (root reads everything). */
function asNobody(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--conditions=source', '--import', 'tsx', CLI_BIN, ...args],
      { env: { ...process.env, PLEXLIFT_CONFIG: undefined, HOME: '/tmp' }, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') reject(new Error(error.message));
        else resolve({ status: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
  });
}

function listenOn(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => resolve(server));
  });
}
