import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DockerEngine } from './docker-engine.js';
import { copyPrograms } from './rootfs.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/build-agent-image.sh', import.meta.url));

/**
 * The agent's image, built by the real `scripts/build-agent-image.sh` from the real Dockerfile,
 * on a base assembled from this machine's own programs (`docker import`: no registry here) that
 * already holds what the Dockerfile would install from Debian (so `PACKAGES` is empty).
 */
export function buildAgentImage(engine: DockerEngine, tag: string): void {
  const base = `${tag.split(':')[0]!}-base:test`;
  const rootfs = mkdtempSync(join(tmpdir(), 'agent-rootfs-'));
  try {
    const programs = ['/bin/sh', '/usr/bin/rclone', '/usr/bin/fusermount3', '/usr/bin/zstd', '/usr/bin/tar', '/usr/bin/sqlite3', '/usr/bin/env', process.execPath];
    copyPrograms(rootfs, programs.map((p) => execFileSync('readlink', ['-f', p], { encoding: 'utf8' }).trim()));
    // The names the agent calls them by, where the real paths differ (sh is dash).
    mkdirSync(join(rootfs, 'bin'), { recursive: true });
    for (const name of ['sh']) spawnSync('ln', ['-sf', execFileSync('readlink', ['-f', `/bin/${name}`], { encoding: 'utf8' }).trim(), join(rootfs, 'bin', name)]);
    symlinkSync('/usr/bin/fusermount3', join(rootfs, 'usr', 'bin', 'fusermount'));
    for (const dir of ['tmp', 'etc', 'dev', 'proc', 'sys', 'run', 'var/run']) mkdirSync(join(rootfs, dir), { recursive: true });
    writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    writeFileSync(join(rootfs, 'etc', 'group'), 'root:x:0:\n');
    const tar = spawnSync('tar', ['-C', rootfs, '-c', '.'], { maxBuffer: 1024 * 1024 * 1024 });
    engine.docker(['import', '-', base], { input: tar.stdout });
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
  execFileSync('bash', [SCRIPT, tag, '--build-arg', `BASE=${base}`, '--build-arg', 'PACKAGES='], { env: { ...process.env, DOCKER_HOST: `unix://${engine.socket}` }, stdio: ['ignore', 'pipe', 'pipe'] });
}
