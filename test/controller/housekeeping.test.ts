import { execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { parseConfig } from '@plexlift/shared';
import { parseJobSpec } from '@plexlift/shared/protocol';
import { openControllerCore } from '../../packages/controller/src/controller.js';
import { startAgentLogHousekeeping, startDailyHousekeeping, type Housekeeping } from '../../packages/controller/src/housekeeping.js';
import { createLogger } from '../../packages/controller/src/logger.js';
import { pruneAgentLogs } from '../../packages/controller/src/providers/agent-logs.js';
import { createLocalProvider } from '../../packages/controller/src/providers/local-provider.js';
import { createTempDir } from '../utils/temp-dir.js';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
const MiB = 1024 * 1024;

/** The daemon's store in a fresh state folder, its housekeeping on a fake clock, and its log. */
function setup(agentLogs: Partial<Housekeeping['agentLogs']> = {}) {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  const stateDir = createTempDir();
  const core = openControllerCore({ stateDir });
  onTestFinished(() => {
    core.db.close();
  });
  const log: string[] = [];
  const agents = join(stateDir, 'agents');
  const house: Housekeeping = {
    core,
    keepJobsDays: 90,
    agentLogs: { workRoots: [agents], keepDays: 30, maxMegabytes: 200, rotateMegabytes: 20, ...agentLogs },
    logger: createLogger((level, line) => log.push(`${level}: ${line}`)),
  };
  const timers = [startDailyHousekeeping(house), startAgentLogHousekeeping(house)];
  onTestFinished(() => timers.forEach((timer) => clearInterval(timer)));
  const staging = join(stateDir, 'transfers');
  /** A folder of a job the store forgot, left by a daemon that stopped before deleting it. */
  const orphan = () => {
    mkdirSync(join(staging, 'job-pruned-export'), { recursive: true });
    writeFileSync(join(staging, 'job-pruned-export', '0.chunk'), 'old');
    return join(staging, 'job-pruned-export');
  };
  return { core, log, staging, orphan, agents };
}

const spec = (jobId: string) =>
  parseJobSpec({ jobId, mode: 'delta', plex: { version: '1.43.2.10687-563d026ea' }, media: { mountPath: '/Media', remote: 's3:media' } });

/** A kept agent log of `bytes`, last written `daysAgo`. */
function keptLog(agents: string, jobId: string, bytes: number, daysAgo: number): string {
  const path = join(agents, 'logs', `${jobId}.log`);
  mkdirSync(join(agents, 'logs'), { recursive: true });
  writeFileSync(path, 'x'.repeat(bytes));
  const at = new Date(Date.now() - daysAgo * DAY_MS);
  utimesSync(path, at, at);
  return path;
}

afterEach(() => vi.useRealTimers());

describe('the daily housekeeping of the daemon', () => {
  it('sweeps the transfer folders no job needs on a day with no old job to forget', () => {
    const { log, orphan } = setup();
    const folder = orphan();
    vi.advanceTimersByTime(DAY_MS);
    expect(existsSync(folder)).toBe(false);
    expect(log).toEqual(['info: deleted transfer folder job-pruned-export: no job needs it']);
  });

  it('logs a failure instead of throwing from its timer (which would stop the daemon), and tries again the next day', () => {
    const { log, staging, orphan } = setup();
    // The staging folder is not a folder today: the sweep cannot read it.
    rmSync(staging, { recursive: true });
    writeFileSync(staging, 'not a folder');
    expect(() => vi.advanceTimersByTime(DAY_MS)).not.toThrow();
    expect(log).toEqual([expect.stringMatching(/^error: daily housekeeping: deleting unneeded transfer folders failed, tried again tomorrow: ENOTDIR/)]);

    rmSync(staging);
    const folder = orphan();
    vi.advanceTimersByTime(DAY_MS);
    expect(existsSync(folder)).toBe(false);
    expect(log.slice(1)).toEqual(['info: deleted transfer folder job-pruned-export: no job needs it']);
  });
});

describe("the agents' logs", () => {
  it("deletes the kept logs older than keepDays and then the oldest while the folder is over maxMegabytes, never a live job's", () => {
    const { core, log, agents } = setup({ keepDays: 30, maxMegabytes: 2 });
    // A live job (installing after its teardown, or taken up again after a restart) keeps its log whatever its age.
    core.jobs.create({ id: 'job-live', library: 'home', provider: 'local', spec: spec('job-live'), options: { keep: false, noInstall: false } });
    const aborted = core.jobs.create({
      id: 'job-aborted',
      library: 'other',
      provider: 'local',
      spec: spec('job-aborted'),
      options: { keep: false, noInstall: false },
    });
    core.jobs.transition(aborted, 'queued', 'aborted');
    keptLog(agents, 'job-live', 1.5 * MiB, 40);
    keptLog(agents, 'job-aborted', 1_000, 31);
    keptLog(agents, 'job-forgotten', 1_000, 45);
    // Within keepDays but 2 MiB in all with the live one: the oldest go until it fits.
    keptLog(agents, 'job-a', 300 * 1024, 3);
    keptLog(agents, 'job-b', 300 * 1024, 2);
    keptLog(agents, 'job-c', 100 * 1024, 1);

    vi.advanceTimersByTime(MINUTE_MS);
    expect(readdirSync(join(agents, 'logs')).sort()).toEqual(['job-b.log', 'job-c.log', 'job-live.log']);
    expect(log).toEqual([
      'info: deleted agent log job-forgotten.log: older than 30 days',
      'info: deleted agent log job-aborted.log: older than 30 days',
      'info: deleted agent log job-a.log: the agent logs were over 2 MB',
    ]);
    const total = readdirSync(join(agents, 'logs')).reduce((sum, file) => sum + statSync(join(agents, 'logs', file)).size, 0);
    expect(total).toBeLessThanOrEqual(2 * MiB);

    // Nothing more to do: nothing more is said.
    vi.advanceTimersByTime(MINUTE_MS);
    expect(log).toHaveLength(3);
  });

  it("rotates a running agent's log at rotateMegabytes under the writing process (copytruncate on its O_APPEND descriptor), one older file kept", async () => {
    const { log, agents } = setup({ rotateMegabytes: 1, maxMegabytes: 2 });
    const workDir = join(agents, 'job-running');
    mkdirSync(workDir, { recursive: true });
    const live = join(workDir, 'agent.log');
    // As the local provider starts an agent: a detached process writing to a descriptor opened for appending.
    const fd = openSync(live, 'a', 0o600);
    const writer = spawn(
      process.execPath,
      [
        '-e',
        // 1.5 MiB at once, then a line every 5 ms.
        `process.stdout.write('before\\n' + ('b'.repeat(1023) + '\\n').repeat(1536));
         let n = 0; setInterval(() => process.stdout.write('after ' + n++ + '\\n'), 5);`,
      ],
      { stdio: ['ignore', fd, fd] },
    );
    closeSync(fd);
    onTestFinished(() => void writer.kill('SIGKILL'));
    await vi.waitFor(() => expect(readFileSync(live, 'utf8')).toContain('after 3'), { timeout: 10_000 });

    vi.advanceTimersByTime(MINUTE_MS);
    expect(log).toEqual([`info: rotated agent log ${live}: over 1 MB`]);
    // The older file is the log's last rotateMegabytes: where a failure says why.
    const rotated = readFileSync(join(workDir, 'agent.log.1'), 'utf8');
    expect(rotated.length).toBe(1 * MiB);
    expect(rotated).toMatch(/after \d+\n$/);
    // The writer goes on at the start of the emptied file, not at its old offset (no hole of zeros).
    await vi.waitFor(() => expect(readFileSync(live, 'utf8')).toMatch(/after \d+\n$/), { timeout: 10_000 });
    const now = readFileSync(live, 'utf8');
    expect(now).toMatch(/^after \d+\n/);
    expect(now).not.toContain('\0');
    expect(statSync(live).size).toBeLessThan(64 * 1024);

    // Under the limit: left alone.
    vi.advanceTimersByTime(MINUTE_MS);
    expect(log).toHaveLength(1);
  });

  it("keeps a torn-down agent's output as one file, its rotated part first", async () => {
    const workRoot = createTempDir();
    const workDir = join(workRoot, 'job-done');
    mkdirSync(workDir);
    writeFileSync(join(workDir, 'agent.log.1'), 'first half\n');
    writeFileSync(join(workDir, 'agent.log'), 'second half\n');
    const provider = createLocalProvider({ workRoot, plexCommand: ['/bin/true'] });
    await provider.teardown({ jobId: 'job-done', workDir }, { keep: false });
    expect(readFileSync(join(workRoot, 'logs', 'job-done.log'), 'utf8')).toBe('first half\nsecond half\n');
    expect(existsSync(workDir)).toBe(false);
  });

  it('never follows what the agent put in its folder: a link, a hard link, a FIFO, a sparse terabyte', () => {
    const { log, agents } = setup({ rotateMegabytes: 1 });
    const victim = join(createTempDir(), 'victim');
    writeFileSync(victim, 'v'.repeat(2 * MiB));
    const folder = (name: string) => {
      const dir = join(agents, name);
      mkdirSync(dir, { recursive: true });
      return dir;
    };
    // agent.log a link to a big file of the system: neither emptied nor copied.
    symlinkSync(victim, join(folder('job-link'), 'agent.log'));
    // agent.log a hard link to it: the same file under another name.
    linkSync(victim, join(folder('job-hardlink'), 'agent.log'));
    // A FIFO: opening it for reading would block the daemon for good.
    execFileSync('mkfifo', [join(folder('job-fifo'), 'agent.log')]);
    // A real log over the limit, whose older file is planted as a link to the victim.
    const planted = folder('job-planted');
    writeFileSync(join(planted, 'agent.log'), 'p'.repeat(2 * MiB));
    symlinkSync(victim, join(planted, 'agent.log.1'));
    // A sparse log of a terabyte: only its last MiB is read.
    const sparse = join(folder('job-sparse'), 'agent.log');
    closeSync(openSync(sparse, 'w'));
    truncateSync(sparse, 1024 ** 4);

    const started = performance.now();
    vi.advanceTimersByTime(MINUTE_MS);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(readFileSync(victim, 'utf8')).toBe('v'.repeat(2 * MiB));
    expect(log.sort()).toEqual([
      `info: rotated agent log ${join(agents, 'job-planted', 'agent.log')}: over 1 MB`,
      `info: rotated agent log ${sparse}: over 1 MB`,
    ]);
    // The planted link was replaced by a file of its own, holding the agent's bytes.
    expect(lstatSync(join(planted, 'agent.log.1')).isFile()).toBe(true);
    expect(readFileSync(join(planted, 'agent.log.1'), 'utf8')).toBe('p'.repeat(MiB));
    expect(statSync(join(agents, 'job-sparse', 'agent.log.1')).size).toBe(MiB);
    expect(statSync(sparse).size).toBe(0);
  });

  it("keeps a torn-down agent's output without following a link or blocking on a FIFO, and weighs a kept log by the disk it takes", async () => {
    const workRoot = createTempDir();
    const victim = join(createTempDir(), 'victim');
    writeFileSync(victim, 'secret of the system\n');
    const linked = join(workRoot, 'job-linked');
    mkdirSync(linked);
    symlinkSync(victim, join(linked, 'agent.log'));
    execFileSync('mkfifo', [join(linked, 'agent.log.1')]);
    const provider = createLocalProvider({ workRoot, plexCommand: ['/bin/true'] });
    await provider.teardown({ jobId: 'job-linked', workDir: linked }, { keep: false });
    expect(existsSync(join(workRoot, 'logs', 'job-linked.log'))).toBe(false);
    expect(readFileSync(victim, 'utf8')).toBe('secret of the system\n');

    // A sparse kept log counts for the blocks it holds, not its nominal terabyte.
    const logs = join(workRoot, 'logs');
    mkdirSync(logs, { recursive: true });
    const sparse = join(logs, 'job-sparse.log');
    closeSync(openSync(sparse, 'w'));
    truncateSync(sparse, 1024 ** 4);
    writeFileSync(join(logs, 'job-small.log'), 'x'.repeat(1024));
    expect(pruneAgentLogs(logs, { keepDays: 30, maxBytes: MiB, isLive: () => false })).toEqual([]);
  });

  it('takes its limits from server.agentLogs, checked at load with the field named', () => {
    expect(parseConfig({}, 'test').server.agentLogs).toEqual({ keepDays: 30, maxMegabytes: 200, rotateMegabytes: 20 });
    expect(parseConfig({ server: { agentLogs: { keepDays: 7 } } }, 'test').server.agentLogs).toEqual({ keepDays: 7, maxMegabytes: 200, rotateMegabytes: 20 });
    expect(() => parseConfig({ server: { agentLogs: { maxMegabytes: 30 } } }, 'test')).toThrow(
      /server\.agentLogs\.rotateMegabytes: must be at most half of maxMegabytes/,
    );
    expect(() => parseConfig({ server: { agentLogs: { keepDays: 0, rotateMegabytes: 'big' } } }, 'test')).toThrow(
      /server\.agentLogs\.keepDays: must be at least 1; server\.agentLogs\.rotateMegabytes: must be a number, not the text "big"/,
    );
  });
});
