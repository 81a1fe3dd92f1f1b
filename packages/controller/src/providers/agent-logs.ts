import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

/**
 * Where the agents' output lives on this machine (local and docker providers): a running local
 * agent writes `<workRoot>/<job>/agent.log` (rotated to `agent.log.1`); once its job's machine is
 * gone, the log is kept as `<workRoot>/logs/<job>.log`.
 */
const LIVE_LOG = 'agent.log';
const ROTATED_LOG = `${LIVE_LOG}.1`;

/** The folder of the kept logs under a provider's work root. */
export function agentLogsDir(workRoot: string): string {
  return join(workRoot, 'logs');
}

/** Where the agent of a job in `workDir` writes its output (the file the provider opens for it). */
export function liveAgentLog(workDir: string): string {
  return join(workDir, LIVE_LOG);
}

/**
 * Rotates each running agent's log in `workRoot` that passed `rotateBytes`, keeping one older file
 * (`agent.log.1`), as logrotate's `copytruncate` does and for the reason it exists: the agent
 * writes to a descriptor the provider opened and handed it, and it outlives the daemon (detached),
 * so no one can reopen the file for it. The descriptor is O_APPEND, so after the truncation its next
 * write lands at the new end, not at its old offset (no hole of zeros). What it writes between the
 * copy and the truncation is lost: a few lines at most, logrotate's known trade. Returns the logs rotated.
 */
export function rotateAgentLogs(workRoot: string, rotateBytes: number): string[] {
  if (!existsSync(workRoot)) return [];
  const rotated: string[] = [];
  for (const entry of readdirSync(workRoot, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const log = liveAgentLog(join(workRoot, entry.name));
    const size = sizeOf(log);
    if (size === undefined || size <= rotateBytes) continue;
    copyFileSync(log, join(workRoot, entry.name, ROTATED_LOG));
    truncateSync(log, 0);
    rotated.push(log);
  }
  return rotated;
}

/**
 * Keeps a finished agent's output as `<workRoot>/logs/<job>.log`, its rotated part first, before
 * its work folder goes: a crash says why only there.
 */
export function keepAgentLog(workDir: string, workRoot: string, jobId: string): void {
  const live = liveAgentLog(workDir);
  const older = join(workDir, ROTATED_LOG);
  if (!existsSync(live) && !existsSync(older)) return;
  const logs = agentLogsDir(workRoot);
  mkdirSync(logs, { recursive: true, mode: 0o700 });
  const kept = join(logs, `${jobId}.log`);
  if (!existsSync(older)) return renameSync(live, kept);
  renameSync(older, kept);
  if (existsSync(live)) appendFile(kept, live);
}

/** Adds `from`'s bytes to the end of `to`, a MiB at a time (a log may be tens of MB). */
function appendFile(to: string, from: string): void {
  const output = openSync(to, 'a');
  const input = openSync(from, 'r');
  try {
    const buffer = Buffer.alloc(1024 * 1024);
    for (let read = readSync(input, buffer); read > 0; read = readSync(input, buffer)) writeSync(output, buffer, 0, read);
  } finally {
    closeSync(input);
    closeSync(output);
  }
}

export interface AgentLogLimits {
  /** A log older than this (by its last write) is deleted. */
  keepDays: number;
  /** The folder is kept under this many bytes, oldest logs first. */
  maxBytes: number;
  /** Whether a job is still live: its log is never deleted. */
  isLive: (jobId: string) => boolean;
  /** @default Date.now() */
  now?: number;
}

/**
 * Deletes the kept logs in `logsDir` older than `keepDays`, then the oldest until the folder is
 * under `maxBytes`, never the log of a job still live (an install after the teardown, a job the
 * daemon takes up again). Returns the files deleted, with why.
 */
export function pruneAgentLogs(logsDir: string, limits: AgentLogLimits): { file: string; reason: 'age' | 'size' }[] {
  if (!existsSync(logsDir)) return [];
  const now = limits.now ?? Date.now();
  const logs = readdirSync(logsDir, { withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const stats = statSync(join(logsDir, entry.name));
      return { file: entry.name, bytes: stats.size, modifiedMs: stats.mtimeMs, live: limits.isLive(jobOfLog(entry.name)) };
    })
    .sort((a, b) => a.modifiedMs - b.modifiedMs);
  const deleted: { file: string; reason: 'age' | 'size' }[] = [];
  let total = logs.reduce((sum, log) => sum + log.bytes, 0);
  for (const log of logs) {
    if (log.live) continue;
    const reason = now - log.modifiedMs > limits.keepDays * 86_400_000 ? 'age' : total > limits.maxBytes ? 'size' : undefined;
    if (!reason) continue;
    rmSync(join(logsDir, log.file), { force: true });
    total -= log.bytes;
    deleted.push({ file: log.file, reason });
  }
  return deleted;
}

/** `job-2026-11-21-abc123.log` → its job. */
function jobOfLog(file: string): string {
  return file.replace(/\.log(\.\d+)?$/, '');
}

function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}
