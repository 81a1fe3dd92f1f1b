import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import type { BootedVm, SimServerView } from './scaleway-sim.js';

interface CloudConfig {
  packages?: string[];
  write_files?: { path: string; permissions?: string; content: string }[];
  runcmd?: (string | string[])[];
}

/** The words of a systemd command line (double quotes, `\\` escapes, `$$` and `%%` as systemd reads them). */
export function systemdWords(line: string): string[] {
  const words: string[] = [];
  for (const match of line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) {
    words.push(match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1').replace(/\$\$/g, '$').replace(/%%/g, '%') : match[2]!);
  }
  return words;
}

export interface VmBootOptions {
  /** Each VM gets its root folder here (`<root>/<server id>/`). */
  root: string;
  /** Extra agent flags (shorter waits: the double's clock runs fast). */
  extraAgentArgs?: string[];
  /** Every VM booted so far, for tests that read their logs. */
  booted?: { server: SimServerView; root: string }[];
}

/**
 * The guest of the Scaleway double: what cloud-init and systemd would do with the rendered user
 * data, inside a folder standing for the VM's disk. `write_files` are written under it with their
 * modes; `runcmd` runs: the agent installer for real (curl to the controller, pinned, with
 * `PLEXLIFT_ROOT` set to the folder), `systemctl daemon-reload` as a no-op, and `systemctl enable
 * --now` starts the unit's ExecStart, with its EnvironmentFile, as a process in its own mount
 * namespace (the agent mounts the media at home's path, as on a VM). `packages` are not
 * installed: this machine has them (test set-up). The VM dying stops the process group.
 */
export function cloudInitBoot(options: VmBootOptions) {
  return async (server: SimServerView, userData: ReadonlyMap<string, string>): Promise<BootedVm> => {
    const root = join(options.root, server.id);
    mkdirSync(root, { recursive: true, mode: 0o700 });
    options.booted?.push({ server, root });
    const text = userData.get('cloud-init');
    if (!text?.startsWith('#cloud-config\n')) throw new Error(`server ${server.name}: no #cloud-config user data`);
    const config = parse(text) as CloudConfig;
    for (const file of config.write_files ?? []) {
      const path = join(root, file.path);
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, file.content, { mode: Number.parseInt(file.permissions ?? '0644', 8) });
    }
    const log = join(root, 'cloud-init-output.log');
    let agent: ReturnType<typeof spawn> | undefined;
    for (const entry of config.runcmd ?? []) {
      const argv = typeof entry === 'string' ? ['sh', '-c', entry] : entry;
      if (argv[0] === 'systemctl') {
        if (argv[1] === 'enable' && argv.includes('--now')) agent = startUnit(root, argv.at(-1)!, log, options.extraAgentArgs ?? []);
        continue;
      }
      const { stdout, stderr } = await promisify(execFile)(join(root, argv[0]!), argv.slice(1), { env: { ...process.env, PLEXLIFT_ROOT: root } });
      writeFileSync(log, stdout + stderr, { flag: 'a' });
    }
    return {
      stop: async () => {
        if (!agent?.pid || agent.exitCode !== null || agent.signalCode !== null) return;
        // A VM being terminated: systemd stops the unit (SIGTERM), then the machine is gone.
        try {
          process.kill(-agent.pid, 'SIGTERM');
        } catch {
          return;
        }
        for (let i = 0; i < 100 && agent.exitCode === null && agent.signalCode === null; i++) await sleep(50);
        try {
          process.kill(-agent.pid, 'SIGKILL');
        } catch {
          // gone
        }
      },
    };
  };
}

/**
 * A value as systemd's EnvironmentFile reads it (systemd.exec(5)): '…' taken literally, "…" with
 * backslash escapes, a backslash outside quotes escaping the next character; parts are joined.
 */
export function environmentFileValue(text: string): string {
  let value = '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error(`agent.env: unterminated ' in ${text}`);
      value += text.slice(i + 1, end);
      i = end;
    } else if (char === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) value += text[i] === '\\' ? text[++i]! : text[i]!;
      if (i >= text.length) throw new Error(`agent.env: unterminated " in ${text}`);
    } else if (char === '\\') value += text[++i] ?? '';
    else value += char;
  }
  return value;
}

/** Maps the VM's absolute paths into its folder (only those cloud-init wrote or the unit uses). */
function inVm(root: string, word: string): string {
  return /^\/(opt|etc|var|run)\//.test(word) ? join(root, word) : word;
}

function startUnit(root: string, name: string, log: string, extraArgs: string[]) {
  const unit = readFileSync(join(root, 'etc', 'systemd', 'system', name), 'utf8');
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
  const envFile = /^EnvironmentFile=(.+)$/m.exec(unit)?.[1];
  if (envFile) {
    for (const line of readFileSync(inVm(root, envFile), 'utf8').split('\n')) {
      const match = /^(\w+)=(.*)$/.exec(line);
      if (match) env[match[1]!] = environmentFileValue(match[2]!);
    }
  }
  const words = systemdWords(/^ExecStart=(.+)$/m.exec(unit)![1]!).map((word) => inVm(root, word));
  if (!existsSync(words[0]!)) throw new Error(`${name}: ${words[0]!} is missing (did the installer run?)`);
  const out = openSync(log, 'a');
  const child = spawn('unshare', ['--mount', '--propagation', 'private', '--', ...words, ...extraArgs], {
    env,
    detached: true,
    stdio: ['ignore', out, out],
    cwd: root,
  });
  closeSync(out);
  child.unref();
  return child;
}
