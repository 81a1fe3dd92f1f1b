import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';

/** Empties the page cache (root only), so a run reads from disk as a first run would. */
export function dropCaches(): boolean {
  spawnSync('sync');
  return spawnSync('sh', ['-c', 'echo 3 > /proc/sys/vm/drop_caches'], { stdio: 'ignore' }).status === 0;
}

/** Runs a bash command line and returns how long it took; throws with its stderr when it fails. */
export async function timeShell(command: string, options: { env?: NodeJS.ProcessEnv } = {}): Promise<number> {
  const started = performance.now();
  const child = spawn('bash', ['-o', 'pipefail', '-c', command], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...options.env } });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`${command}: exit ${code}: ${stderr.trim()}`);
  return performance.now() - started;
}

/** Peak resident memory of this process (`VmHWM`), in bytes. */
export function peakRssBytes(pid: number | 'self' = 'self'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) * 1024;
}

/** Resident memory and CPU time (user + system, ms) of a process now. */
export function processUsage(pid: number): { rssBytes: number; cpuMs: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
  // Fields 14 and 15 of stat (utime, stime) in clock ticks; the command name may hold spaces.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssBytes: rss, cpuMs: (ticks * 1000) / clockTicks() };
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  ticksPerSecond ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  return ticksPerSecond;
}

/** What the figures were measured on. */
export function machineFacts(): string {
  const cpu = cpus();
  const zstd = spawnSync('zstd', ['--version'], { encoding: 'utf8' }).stdout.trim();
  const rclone = spawnSync('rclone', ['version'], { encoding: 'utf8' }).stdout.split('\n')[0]?.trim() ?? '';
  return [
    `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Linux ${release()}`,
    `Node ${process.version}; ${zstd}; ${rclone}`,
  ].join('\n');
}

export const MB = 1_000_000;
export const mbPerSecond = (bytes: number, ms: number): number => bytes / MB / (ms / 1000);
export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
export const megabytes = (bytes: number): string => `${(bytes / MB).toFixed(0)} MB`;

/**
 * Peak RSS of `node <args>` in bytes: the child's own `VmHWM` on exit (its `maxRSS` would start
 * at this process's size, which a spawned child inherits).
 */
export function maxRssOf(args: string[]): number {
  const report =
    "data:text/javascript,import{readFileSync}from'node:fs';process.on('exit',()=>process.stderr.write(readFileSync('/proc/self/status','utf8').match(/VmHWM:.*/)[0]))";
  const run = spawnSync(process.execPath, ['--import', report, ...(args.length > 0 ? args : ['-e', '0'])], { encoding: 'utf8' });
  const kib = Number(/VmHWM:\s*(\d+) kB/.exec(run.stderr)?.[1]);
  if (!Number.isFinite(kib)) throw new Error(`node ${args.join(' ')}: no memory figure (${run.stderr.trim()})`);
  return kib * 1024;
}
