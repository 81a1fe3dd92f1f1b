import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { bundled } from '../lib/bundles.js';

const HERE = import.meta.dirname;

export interface TransferRun {
  /** From the start of the archive to the last file unpacked at home. */
  wallMs: number;
  /** When home had every chunk and checked the whole digest. */
  verifiedMs: number;
  /** Body bytes that crossed the link (the compressed archive, resent parts included). */
  bytesOnWire: number;
  controllerPeakRss: number;
  agentPeakRss: number;
  files: number;
  /** The zstd level of each frame of the archive, in order. */
  levels: number[];
}

export interface TransferPlaces {
  /** Run the controller side in this network namespace, listening on `host`. */
  controllerNetns?: string;
  agentNetns?: string;
  host?: string;
  /** zstd level for the agent's archive (default: the agent's own). */
  level?: number;
}

/**
 * One whole transfer through plexlift's real code, controller and agent each in its own process
 * (so each one's memory is its own): export (tar | zstd), upload in chunks over pinned TLS,
 * verify, unpack at home into `outDir`.
 */
export async function runPlexliftTransfer(pmsDir: string, workDir: string, places: TransferPlaces = {}): Promise<TransferRun> {
  const started = performance.now();
  const [controllerSide, agentSide] = await Promise.all([
    bundled(join(HERE, 'controller-side.ts'), 'controller-side.mjs'),
    bundled(join(HERE, 'agent-side.ts'), 'agent-side.mjs'),
  ]);
  const controller = start(places.controllerNetns, [
    controllerSide,
    '--state',
    join(workDir, 'state'),
    '--out',
    join(workDir, 'out'),
    '--host',
    places.host ?? '127.0.0.1',
  ]);
  const lines = createInterface({ input: controller.child.stdout! });
  const iterator = lines[Symbol.asyncIterator]();
  const ready = await iterator.next();
  if (ready.done || !String(ready.value).startsWith('ready ')) throw new Error(`controller side did not start: ${await controller.stderr()}`);
  const { url, token, fingerprint } = JSON.parse(String(ready.value).slice(6)) as { url: string; token: string; fingerprint: string };
  const agent = start(places.agentNetns, [
    agentSide,
    '--pms',
    pmsDir,
    '--url',
    url,
    '--token',
    token,
    '--fingerprint',
    fingerprint,
    ...(places.level ? ['--level', String(places.level)] : []),
  ]);
  const agentOut = lastJsonLine(agent);
  const home = await iterator.next();
  if (home.done) throw new Error(`controller side failed: ${await controller.stderr()}`);
  const wallMs = performance.now() - started;
  const homeResult = JSON.parse(String(home.value)) as { verifiedMs: number; bytesReceived: number; peakRssBytes: number; files: number };
  const agentResult = (await agentOut) as { peakRssBytes: number; levels: number[] };
  lines.close();
  return {
    wallMs,
    verifiedMs: homeResult.verifiedMs,
    bytesOnWire: homeResult.bytesReceived,
    controllerPeakRss: homeResult.peakRssBytes,
    agentPeakRss: agentResult.peakRssBytes,
    files: homeResult.files,
    levels: agentResult.levels,
  };
}

interface Side {
  child: ChildProcess;
  /** The end of what it printed on stderr, once it has exited. */
  stderr: () => Promise<string>;
}

function start(netns: string | undefined, args: string[]): Side {
  const command = netns ? ['ip', 'netns', 'exec', netns, process.execPath, ...args] : [process.execPath, ...args];
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  child.stderr.on('data', (chunk: Buffer) => (tail = (tail + chunk.toString()).slice(-4096)));
  const closed = new Promise((resolve) => child.once('close', resolve));
  return {
    child,
    stderr: async () => {
      await closed;
      return tail;
    },
  };
}

async function lastJsonLine(side: Side): Promise<unknown> {
  let out = '';
  side.child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await side.stderr();
  if (side.child.exitCode !== 0) throw new Error(`agent side failed (exit ${side.child.exitCode}): ${await side.stderr()}`);
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}');
}
