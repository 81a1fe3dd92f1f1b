import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DockerEngine } from './docker-engine.js';
import { copyPrograms } from './rootfs.js';

const SCRIPTS = fileURLToPath(new URL('../../scripts/', import.meta.url));

/**
 * A base image assembled from this machine's own programs (`docker import`: no registry here)
 * holding what the Dockerfiles would install from Debian, so they build with `PACKAGES` empty.
 */
function importBaseImage(engine: DockerEngine, tag: string, programs: string[]): void {
  const rootfs = mkdtempSync(join(tmpdir(), 'rootfs-'));
  try {
    copyPrograms(
      rootfs,
      ['/bin/sh', '/usr/bin/env', process.execPath, ...programs].map((p) => execFileSync('readlink', ['-f', p], { encoding: 'utf8' }).trim()),
    );
    // The names programs are called by, where the real paths differ (sh is dash).
    mkdirSync(join(rootfs, 'bin'), { recursive: true });
    spawnSync('ln', ['-sf', execFileSync('readlink', ['-f', '/bin/sh'], { encoding: 'utf8' }).trim(), join(rootfs, 'bin', 'sh')]);
    if (programs.includes('/usr/bin/fusermount3')) symlinkSync('/usr/bin/fusermount3', join(rootfs, 'usr', 'bin', 'fusermount'));
    for (const dir of ['tmp', 'etc', 'dev', 'proc', 'sys', 'run', 'var/run']) mkdirSync(join(rootfs, dir), { recursive: true });
    writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    writeFileSync(join(rootfs, 'etc', 'group'), 'root:x:0:\n');
    const tar = spawnSync('tar', ['-C', rootfs, '-c', '.'], { maxBuffer: 1024 * 1024 * 1024 });
    engine.docker(['import', '-', tag], { input: tar.stdout });
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

/** Runs one of the repository's image scripts against the test engine, on a local base. */
function buildWithScript(engine: DockerEngine, script: string, tag: string, base: string): void {
  execFileSync('bash', [join(SCRIPTS, script), tag, '--build-arg', `BASE=${base}`, '--build-arg', 'PACKAGES='], {
    env: { ...process.env, DOCKER_HOST: `unix://${engine.socket}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** The agent's image, from the real Dockerfile and `scripts/build-agent-image.sh`. */
export function buildAgentImage(engine: DockerEngine, tag: string): void {
  importBaseImage(engine, 'plexlift/agent-base:test', [
    '/usr/bin/rclone',
    '/usr/bin/fusermount3',
    '/usr/bin/zstd',
    '/usr/bin/tar',
    '/usr/bin/sqlite3',
    '/usr/bin/docker',
  ]);
  buildWithScript(engine, 'build-agent-image.sh', tag, 'plexlift/agent-base:test');
}

/** The controller's image, from the real Dockerfile and `scripts/build-controller-image.sh`. */
export function buildControllerImage(engine: DockerEngine, tag: string): void {
  importBaseImage(engine, 'plexlift/controller-base:test', ['/usr/bin/rclone', '/usr/bin/zstd', '/usr/bin/tar', '/usr/bin/sqlite3']);
  buildWithScript(engine, 'build-controller-image.sh', tag, 'plexlift/controller-base:test');
}
