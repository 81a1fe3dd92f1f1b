import type { ChildProcess } from 'node:child_process';
import { collectStderr } from '../process/child-stderr.js';

/**
 * Resolves when `child` (tar, zstd) exits 0; rejects naming it, its exit code or signal and the
 * tail of its stderr, or with the spawn error (a missing binary, an abort).
 */
export function exitedCleanly(child: ChildProcess, name: string): Promise<void> {
  const stderr = collectStderr(child);
  return new Promise<void>((resolve, reject) => {
    // `on`, not `once`: a child spawned with a signal can report an abort more than once.
    child.on('error', reject);
    child.once('close', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${name} exited with ${signal ?? code}: ${stderr().trim()}`))));
  });
}
