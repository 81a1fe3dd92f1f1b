import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

/**
 * Where the agents' output lives on this machine (local and docker providers): a running local
 * agent writes `<workRoot>/<job>/agent.log` (rotated to `agent.log.1`); once its job's machine is
 * gone, the log is kept as `<workRoot>/logs/<job>.log`.
 *
 * The job folder is the agent's (a docker agent has it bound writable), so everything in it is
 * hostile to the root daemon that rotates and keeps it: a file is opened only without following a
 * link and without blocking (a FIFO), used only when it is a regular file with no other name (a
 * hard link to a file of the system), and read through its descriptor, never again by its path.
 * What is written is a new file made here (O_EXCL) and renamed into place, and copies are bounded
 * (a sparse log of a terabyte costs a read of its last bytes, not a disk).
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

/** A log file the agent may have swapped: its descriptor when it is a plain file of its own, else nothing. */
function openAgentFile(path: string, flags: number): number | undefined {
  let fd: number;
  try {
    fd = openSync(path, flags | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined; // missing, a link (ELOOP), or unreadable: nothing to rotate or keep
  }
  const stats = fstatSync(fd);
  if (!stats.isFile() || stats.nlink !== 1) {
    closeSync(fd);
    return undefined;
  }
  return fd;
}

/** Writes the last `limit` bytes of each descriptor, in order, into a new file that then takes `path`'s name. */
function writeTails(path: string, inputs: number[], limit: number): void {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const output = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    const buffer = Buffer.alloc(1024 * 1024);
    for (const input of inputs) {
      // Up to the size seen now: a writer going on meanwhile does not stretch the copy past `limit`.
      const end = fstatSync(input).size;
      let position = Math.max(0, end - limit);
      while (position < end) {
        const read = readSync(input, buffer, 0, Math.min(buffer.length, end - position), position);
        if (read === 0) break; // truncated meanwhile
        writeSync(output, buffer, 0, read);
        position += read;
      }
    }
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  } finally {
    closeSync(output);
  }
  // A rename replaces whatever has the name (a link included) without following it.
  renameSync(temp, path);
}

/**
 * Rotates each running agent's log in `workRoot` that passed `rotateBytes`, keeping its last
 * `rotateBytes` as `agent.log.1`, as logrotate's `copytruncate` does and for the reason it exists:
 * the agent writes to a descriptor the provider opened and handed it, and it outlives the daemon
 * (detached), so no one can reopen the file for it. The descriptor is O_APPEND, so after the
 * truncation its next write lands at the new end, not at its old offset (no hole of zeros). What it
 * writes between the copy and the truncation is lost: a few lines at most, logrotate's known
 * trade. Returns the logs rotated.
 */
export function rotateAgentLogs(workRoot: string, rotateBytes: number): string[] {
  if (!existsSync(workRoot)) return [];
  const rotated: string[] = [];
  for (const entry of readdirSync(workRoot, { withFileTypes: true })) {
    // A folder, not a link to one (readdir's type is the entry's own).
    if (!entry.isDirectory()) continue;
    const log = liveAgentLog(join(workRoot, entry.name));
    const fd = openAgentFile(log, constants.O_RDWR);
    if (fd === undefined) continue;
    try {
      if (fstatSync(fd).size <= rotateBytes) continue;
      writeTails(join(workRoot, entry.name, ROTATED_LOG), [fd], rotateBytes);
      ftruncateSync(fd, 0);
      rotated.push(log);
    } finally {
      closeSync(fd);
    }
  }
  return rotated;
}

/**
 * Keeps a finished agent's output as `<workRoot>/logs/<job>.log` (its rotated part first, each part
 * at most `partBytes`: its end, where a crash says why), before its work folder goes.
 */
export function keepAgentLog(workDir: string, workRoot: string, jobId: string, partBytes = 20 * 1024 * 1024): void {
  const parts = [join(workDir, ROTATED_LOG), liveAgentLog(workDir)].map((path) => openAgentFile(path, constants.O_RDONLY)).filter((fd) => fd !== undefined);
  if (parts.length === 0) return;
  try {
    const logs = agentLogsDir(workRoot);
    mkdirSync(logs, { recursive: true, mode: 0o700 });
    writeTails(join(logs, `${jobId}.log`), parts, partBytes);
  } finally {
    for (const fd of parts) closeSync(fd);
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
    .flatMap((entry) => {
      const stats = lstatSync(join(logsDir, entry.name), { throwIfNoEntry: false });
      // Gone since the listing: nothing to weigh. The disk a file takes, not its nominal size (a sparse one).
      if (!stats) return [];
      return [{ file: entry.name, bytes: Math.min(stats.size, stats.blocks * 512), modifiedMs: stats.mtimeMs, live: limits.isLive(jobOfLog(entry.name)) }];
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
