import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findRecoveryEngine, PLEX_SQLITE_PATHS } from '@plexlift/shared/plex-db';
import { REAL_DB_DIR } from '../../utils/library-generator.js';
import { bundleNodeApp } from '../../../scripts/node-app-bundle.js';
import { copyPrograms } from '../../utils/rootfs.js';
import type { DockerEngine } from '../../utils/docker-engine.js';

/**
 * Builds the double's image with no registry: `FROM scratch`, the machine's own Node runtime
 * and the libraries it links, the double bundled into one file, better-sqlite3's native
 * addon, the real 1.43.2 DB template, and a SQLite shell with a working `.recover` (the project's
 * DBPAGE build) where the image has `Plex SQLite`. It follows `plexinc/pms-docker`: `/config` and
 * `/transcode` volumes, port 32400, `PLEX_CLAIM`/`PLEX_UID`/`PLEX_GID`/`TZ`, a health check on
 * `/identity` (every 5 s, 20 retries).
 */
export async function buildPlexSimImage(engine: DockerEngine, tag: string): Promise<void> {
  const context = mkdtempSync(join(tmpdir(), 'plex-sim-image-'));
  try {
    const rootfs = join(context, 'rootfs');
    copyNodeRuntime(rootfs);
    await bundleNodeApp(fileURLToPath(new URL('../main.ts', import.meta.url)), join(rootfs, 'app'), 'plex-sim.mjs');
    // The bundle resolves the DB template next to it, as test/utils does in the repo.
    cpSync(REAL_DB_DIR, join(rootfs, 'fixtures', 'pms-1.43.2'), { recursive: true });
    const shell = (await findRecoveryEngine({ kind: 'sqlite3' })).command[0]!;
    copyPrograms(rootfs, [shell]);
    mkdirSync(join(rootfs, PLEX_SQLITE_PATHS[0]!, '..'), { recursive: true });
    cpSync(shell, join(rootfs, PLEX_SQLITE_PATHS[0]!));
    writeFileSync(
      join(rootfs, 'app', 'healthcheck.mjs'),
      "const port = process.env.PLEX_SIM_PORT ?? '32400';\nconst r = await fetch(`http://127.0.0.1:${port}/identity`).catch(() => undefined);\nprocess.exit(r?.ok ? 0 : 1);\n",
    );
    for (const dir of ['tmp', 'config', 'transcode', 'data']) mkdirSync(join(rootfs, dir), { recursive: true });
    writeFileSync(
      join(context, 'Dockerfile'),
      [
        'FROM scratch',
        'COPY rootfs/ /',
        'ENV HOME=/config TZ=UTC',
        'VOLUME /config /transcode',
        'EXPOSE 32400/tcp',
        'HEALTHCHECK --interval=5s --timeout=2s --retries=20 CMD ["/usr/bin/node", "/app/healthcheck.mjs"]',
        'ENTRYPOINT ["/usr/bin/node", "/app/plex-sim.mjs", "--data-dir", "/config", "--port", "32400"]',
        '',
      ].join('\n'),
    );
    engine.docker(['build', '-q', '-t', tag, context]);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

/** `/usr/bin/node` and every library `ldd` says it loads, at the same paths. */
function copyNodeRuntime(rootfs: string): void {
  copyPrograms(rootfs, [process.execPath]);
  if (process.execPath !== '/usr/bin/node') {
    mkdirSync(join(rootfs, 'usr', 'bin'), { recursive: true });
    cpSync(process.execPath, join(rootfs, 'usr', 'bin', 'node'), { dereference: true });
  }
}
