import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create } from 'tar';
import type { TokenStore } from '../store/token-store.js';
import { bearerToken } from '@plexlift/shared/protocol';

/** `uname -m` on the VM, as Node names the same architecture. */
const MACHINE_TO_NODE: Record<string, string> = { x86_64: 'x64', amd64: 'x64', aarch64: 'arm64', arm64: 'arm64' };

/**
 * Where `npm run build` puts the agent bundle (beside the agent package's sources and build), or
 * `PLEXLIFT_AGENT_BUNDLE` (the controller's container image, where the CLI is one bundled file).
 */
export function agentBundleDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.PLEXLIFT_AGENT_BUNDLE ?? join(dirname(fileURLToPath(import.meta.resolve('@plexlift/agent'))), '..', 'bundle');
}

/**
 * `GET /agent/bundle?arch=…`: the agent and the Node runtime it runs on (this controller's own:
 * same version, same architecture), as a tar.gz a VM unpacks into /opt/plexlift. Only for the
 * holder of a job's token (the bootstrap one, which this does not spend, or its session one):
 * nothing is downloaded from anywhere but home.
 */
export function createAgentBundleHandler(options: {
  tokens: TokenStore;
  stagingDir: string;
  bundleDir?: string;
  onRefused?: (where: string, reason: string) => void;
}) {
  const bundleDir = options.bundleDir ?? agentBundleDir();
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/agent/bundle') return false;
    const text = (status: number, body: string) => {
      res.writeHead(status, { 'Content-Type': 'text/plain' });
      res.end(`${body}\n`);
    };
    if (req.method !== 'GET') return (text(405, 'GET only'), true);
    const token = bearerToken(req.headers);
    const check = token ? options.tokens.check(token, ['bootstrap', 'session']) : { ok: false as const, reason: 'no token' };
    if (!check.ok) {
      options.onRefused?.('agent bundle', check.reason);
      return (text(401, 'unauthorized'), true);
    }
    const wanted = MACHINE_TO_NODE[url.searchParams.get('arch') ?? ''] ?? url.searchParams.get('arch');
    if (wanted !== process.arch)
      return (
        text(
          409,
          `this controller runs on ${process.arch} and serves a Node runtime for it; the VM is ${url.searchParams.get('arch') ?? 'of an unknown architecture'}: choose an Instance type of the same architecture`,
        ),
        true
      );
    if (!existsSync(join(bundleDir, 'agent', 'main.mjs'))) return (text(503, 'the agent bundle is not built on this controller (npm run build)'), true);
    // A folder of links, packed with their targets: the bundle and the running Node, never copied.
    const staging = join(options.stagingDir, `bundle-${process.pid}`);
    if (!existsSync(join(staging, 'bin', 'node'))) {
      rmSync(staging, { recursive: true, force: true });
      mkdirSync(join(staging, 'bin'), { recursive: true });
      symlinkSync(process.execPath, join(staging, 'bin', 'node'));
      symlinkSync(join(bundleDir, 'agent'), join(staging, 'agent'));
      symlinkSync(join(bundleDir, 'package.json'), join(staging, 'package.json'));
    }
    res.writeHead(200, { 'Content-Type': 'application/gzip' });
    const stream = create({ gzip: true, cwd: staging, follow: true, portable: true }, ['bin', 'agent', 'package.json']);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
    return true;
  };
}
