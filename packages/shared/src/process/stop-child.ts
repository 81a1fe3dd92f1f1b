import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Stops a child the way Docker stops a container: SIGTERM, then SIGKILL when it has not exited
 * after `killAfterMs`. Resolves once it has exited; `killed` says whether it took the SIGKILL.
 */
export async function stopChild(child: ChildProcess, options: { killAfterMs: number }): Promise<{ killed: boolean }> {
  if (child.exitCode !== null || child.signalCode !== null) return { killed: false };
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  let killed = false;
  const killer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, options.killAfterMs);
  await exited;
  clearTimeout(killer);
  return { killed };
}

/**
 * Stops a process group whose leader is not our child (a detached agent, perhaps started by an
 * earlier daemon): SIGTERM to the group, up to `killAfterMs` for the leader to exit, then
 * SIGKILL to whatever of the group is left. It does not wait for the SIGKILL: a process stuck
 * in a FUSE read may never die, and the caller must not hang with it.
 */
export async function stopProcessGroup(pid: number, options: { killAfterMs: number }): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + options.killAfterMs;
  while (Date.now() < deadline && isAlive(pid)) await sleep(100);
  signal('SIGKILL');
}

/** A zombie has exited: only its parent's wait is missing. */
function isAlive(pid: number): boolean {
  try {
    return !(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? false);
  } catch {
    return false;
  }
}
