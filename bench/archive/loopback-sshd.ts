import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createConnection } from 'node:net';

export interface LoopbackSshd extends AsyncDisposable {
  port: number;
  /** `scp` with the options that reach it (key, no host-key prompt). */
  scp: (from: string, to: string) => string;
}

/**
 * Debian's `sshd` on 127.0.0.1 with its own host key, one authorised key and nothing else: what
 * the previous tool copied archives with (`scp`), here to measure it.
 */
export async function startLoopbackSshd(dir: string, port: number): Promise<LoopbackSshd> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Privilege separation needs this folder; Debian makes it at boot.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  for (const name of ['host', 'client']) spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, name)], { input: 'y\n' });
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client.pub')));
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PermitRootLogin yes',
      'StrictModes no',
      'PasswordAuthentication no',
      'UsePAM no',
      'Subsystem sftp internal-sftp',
      `PidFile ${join(dir, 'sshd.pid')}`,
      '',
    ].join('\n'),
  );
  const daemon: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  daemon.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  for (let i = 0; ; i++) {
    if (daemon.exitCode !== null) throw new Error(`sshd exited: ${log}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => resolve(true)).once('error', () => resolve(false));
      socket.once('connect', () => socket.end());
    });
    if (open) break;
    if (i > 100) throw new Error(`sshd did not listen: ${log}`);
    await sleep(100);
  }
  const options = [
    '-q',
    '-i',
    join(dir, 'client'),
    '-P',
    String(port),
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'BatchMode=yes',
  ];
  return {
    port,
    scp: (from, to) => `scp ${options.join(' ')} '${from}' 'root@127.0.0.1:${to}'`,
    [Symbol.asyncDispose]: async () => {
      daemon.kill('SIGTERM');
      await new Promise((resolve) => (daemon.exitCode === null ? daemon.once('exit', resolve) : resolve(undefined)));
    },
  };
}
