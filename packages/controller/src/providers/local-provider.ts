import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PlexliftError } from '@plexlift/shared';
import { stopProcessGroup } from '@plexlift/shared/process';
import { agentArguments } from './agent-command.js';
import { keepAgentLog, liveAgentLog } from './agent-logs.js';
import { agentEnvironment } from './agent-environment.js';
import type { Provider, ProviderResource, ProvisionRequest } from './provider.js';

export interface LocalProviderOptions {
  /** Where each job's agent gets its folder (work dir, Plex data dir, log). */
  workRoot: string;
  /** argv of the Plex the agent runs. */
  plexCommand: string[];
  tuningFile?: string | undefined;
}

interface LocalResource extends ProviderResource {
  workDir: string;
  pid?: number;
}

/**
 * The agent as a process on this machine (no cloud, no cost): its own session, process group
 * and mount namespace (so it needs root), so it outlives a controller crash and a restarted
 * controller finds it again; torn down with SIGTERM (the agent stops Plex and unmounts), then
 * SIGKILL to its whole group. Its output is kept as `<workRoot>/logs/<job>.log` (agent-logs.ts:
 * the daemon's housekeeping rotates it while it runs and prunes the kept ones).
 */
export function createLocalProvider(options: LocalProviderOptions): Provider {
  return {
    name: 'local',
    hourlyPrice: 0,
    provision: (request) => Promise.resolve(provision(options, request)),
    status: (resource) => {
      const pid = (resource as LocalResource).pid;
      const alive = pid !== undefined && isAgentOf(pid, jobOf(resource));
      return Promise.resolve({ exists: alive, detail: alive ? `agent process ${pid}` : 'no agent process' });
    },
    teardown: async (resource, { keep }) => {
      const { pid, workDir } = resource as LocalResource;
      if (pid !== undefined && isAgentOf(pid, jobOf(resource))) await stopProcessGroup(pid, { killAfterMs: 30_000 });
      if (keep) return;
      keepAgentLog(workDir, options.workRoot, jobOf(resource));
      rmSync(workDir, { recursive: true, force: true });
    },
    // Only the agents of this controller (their work folders are under its root).
    describe: (resource) => `agent process ${String((resource as LocalResource).pid ?? '?')} in ${(resource as LocalResource).workDir}`,
    list: () =>
      Promise.resolve(
        agentProcesses()
          .filter((p) => p.workDir === join(options.workRoot, p.jobId))
          .map(({ pid, jobId, workDir }) => ({ jobId, resource: { jobId, pid, workDir } })),
      ),
  };
}

function provision(options: LocalProviderOptions, request: ProvisionRequest): LocalResource {
  if (process.getuid?.() !== 0)
    throw new PlexliftError(
      'CONFIG_INVALID',
      'provider local: the agent mounts the media in a private mount namespace, which needs root; run plexlift serve as root',
    );
  const workDir = join(options.workRoot, request.jobId);
  const resource: LocalResource = { workDir, jobId: request.jobId };
  request.record(resource);
  mkdirSync(workDir, { recursive: true, mode: 0o700 });
  const tokenFile = join(workDir, 'bootstrap-token');
  writeFileSync(tokenFile, `${request.bootstrapToken}\n`, { mode: 0o600 });
  // Opened for appending (O_APPEND): the housekeeping's rotation truncates it under the running agent.
  const log = openSync(liveAgentLog(workDir), 'a', 0o600);
  const args = [
    ...agentEntry(),
    ...agentArguments({
      controllerUrl: request.controllerUrl,
      jobId: request.jobId,
      workDir,
      plex: { command: options.plexCommand },
      fingerprint: request.controllerTls?.fingerprint,
      tokenFile,
      tuningFile: options.tuningFile,
    }),
  ];
  // Its own mount namespace: the agent mounts the media at home's path, which on this machine
  // is where the home Plex reads it; there the mount is the agent's alone. unshare execs the
  // agent in place, so the pid is the agent's.
  const child = spawn('unshare', ['--mount', '--propagation', 'private', '--', process.execPath, ...args], {
    detached: true,
    stdio: ['ignore', log, log],
    cwd: workDir,
    env: agentEnvironment(process.env),
  });
  closeSync(log);
  child.unref();
  const started: LocalResource = { ...resource, pid: child.pid! };
  request.record(started);
  return started;
}

/** The agent's entry point: its sources under the `source` condition (tests), its build otherwise. */
function agentEntry(): string[] {
  const entry = fileURLToPath(import.meta.resolve('@plexlift/agent'));
  // The agent runs in its own folder: tsx is named by its full address, not looked up from there.
  return entry.endsWith('.ts') ? ['--conditions=source', '--import', import.meta.resolve('tsx'), entry] : [entry];
}

function jobOf(resource: ProviderResource): string {
  return typeof resource.jobId === 'string' ? resource.jobId : '';
}

/** A pid is this job's agent only if its command line says so (pids get reused). */
function isAgentOf(pid: number, jobId: string): boolean {
  return agentProcesses().some((p) => p.pid === pid && p.jobId === jobId);
}

function agentProcesses(): { pid: number; jobId: string; workDir: string | undefined }[] {
  const found: { pid: number; jobId: string; workDir: string | undefined }[] = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const job = argv.indexOf('--job');
    const workDir = argv.indexOf('--work-dir');
    if (job > 0 && argv.some((a) => /agent[/\\](src|dist)[/\\]main\.[jt]s$/.test(a)) && argv[job + 1])
      found.push({ pid: Number(name), jobId: argv[job + 1]!, workDir: workDir > 0 ? argv[workDir + 1] : undefined });
  }
  return found;
}
