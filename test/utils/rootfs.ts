import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Copies programs of this machine into a root filesystem being assembled for `docker import`
 * (there is no registry here): each at its own path, with every library `ldd` says it loads.
 * Static binaries (rclone) have none.
 */
export function copyPrograms(rootfs: string, programs: string[]): void {
  for (const program of programs) {
    let libraries: string[] = [];
    try {
      libraries = execFileSync('ldd', [program], { encoding: 'utf8' })
        .split('\n')
        .map((line) => /(\/\S+)/.exec(line)?.[1])
        .filter((path): path is string => path !== undefined);
    } catch {
      // "not a dynamic executable"
    }
    for (const file of [program, ...libraries]) {
      const target = join(rootfs, file);
      mkdirSync(dirname(target), { recursive: true });
      cpSync(file, target, { dereference: true });
    }
  }
}
