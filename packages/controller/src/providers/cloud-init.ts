import { stringify } from 'yaml';
import { agentArguments } from './agent-command.js';

export interface AgentCloudInit {
  jobId: string;
  /** `https://…` of the controller as the VM reaches it. */
  controllerUrl: string;
  /** SHA-256 of the controller's certificate (the agent pins it). */
  fingerprint?: string | undefined;
  /** base64 SHA-256 of the certificate's public key (curl pins it while fetching the agent). */
  publicKeyPin?: string | undefined;
  /** Works once, expires within minutes. */
  bootstrapToken: string;
  /** argv of Plex on the VM; without it, the official Docker image at the home's version. */
  plexCommand?: string[] | undefined;
}

/** Where things go on the VM; the install script and the unit take `PLEXLIFT_ROOT` as a prefix (the double boots into a folder). */
export const VM_PATHS = {
  env: '/etc/plexlift/agent.env',
  installer: '/usr/local/lib/plexlift/install-agent',
  unit: '/etc/systemd/system/plexlift-agent.service',
  agentDir: '/opt/plexlift',
  workDir: '/var/lib/plexlift-agent',
} as const;

/**
 * The VM's user data: Debian's Docker, rclone, fuse3 and zstd; the agent fetched from the
 * controller's own port (the bundle and the Node runtime it runs on, behind the bootstrap token,
 * over TLS pinned to the controller's key: no third-party download); a systemd unit that runs it.
 * The only values it carries are the controller's address, its certificate's fingerprints and the
 * one-time bootstrap token: no keys, no storage credentials, no Plex tokens (the agent fetches
 * those over its authenticated channel).
 */
export function renderCloudInit(input: AgentCloudInit): string {
  // Read by the installer's `sh` (`. agent.env`) and by systemd's EnvironmentFile: single-quoted, so neither expands anything.
  const env = [
    envLine('PLEXLIFT_CONTROLLER_URL', input.controllerUrl),
    envLine('PLEXLIFT_JOB', input.jobId),
    ...(input.fingerprint ? [envLine('PLEXLIFT_FINGERPRINT', input.fingerprint)] : []),
    ...(input.publicKeyPin ? [envLine('PLEXLIFT_PUBLIC_KEY_PIN', input.publicKeyPin)] : []),
    envLine('PLEXLIFT_AGENT_TOKEN', input.bootstrapToken),
  ].join('\n');
  // The token comes from the unit's environment file, never from its command line.
  const execStart = [
    `${VM_PATHS.agentDir}/bin/node`,
    `${VM_PATHS.agentDir}/agent/main.mjs`,
    ...agentArguments({
      controllerUrl: input.controllerUrl,
      jobId: input.jobId,
      workDir: VM_PATHS.workDir,
      plex: input.plexCommand ? { command: input.plexCommand } : { docker: {} },
      fingerprint: input.fingerprint,
    }),
  ];
  const unit = `[Unit]
Description=plexlift agent (job ${input.jobId})
Wants=network-online.target
After=network-online.target docker.service
${input.plexCommand ? '' : 'Requires=docker.service\n'}
[Service]
Type=simple
StateDirectory=plexlift-agent
StateDirectoryMode=0700
EnvironmentFile=${VM_PATHS.env}
ExecStart=${execStart.map(systemdQuote).join(' ')}
# A job's failure is final (the controller tears the VM down); a crash is not.
Restart=on-abnormal
RestartSec=5
KillMode=mixed
TimeoutStopSec=120

[Install]
WantedBy=multi-user.target
`;
  // The token goes to curl in a header file, never on a command line (ps shows those).
  const installer = `#!/bin/sh
# Fetches the plexlift agent and its Node runtime from the controller (pinned TLS) and unpacks them.
set -eu
root="\${PLEXLIFT_ROOT:-}"
. "$root${VM_PATHS.env}"
umask 077
headers="$root/run/plexlift-agent.headers"
mkdir -p "$root/run" "$root${VM_PATHS.agentDir}"
printf 'Authorization: Bearer %s\\n' "$PLEXLIFT_AGENT_TOKEN" > "$headers"
pin=""
if [ -n "\${PLEXLIFT_PUBLIC_KEY_PIN:-}" ]; then pin="--insecure --pinnedpubkey sha256//$PLEXLIFT_PUBLIC_KEY_PIN"; fi
# shellcheck disable=SC2086
curl --fail --silent --show-error --retry 20 --retry-delay 3 --retry-connrefused $pin -H "@$headers" \\
  -o "$root/run/plexlift-agent.tar.gz" "$PLEXLIFT_CONTROLLER_URL/agent/bundle?arch=$(uname -m)"
rm -f "$headers"
tar -xzf "$root/run/plexlift-agent.tar.gz" -C "$root${VM_PATHS.agentDir}"
rm -f "$root/run/plexlift-agent.tar.gz"
`;
  const config = {
    package_update: true,
    packages: ['ca-certificates', 'curl', 'tar', 'docker.io', 'rclone', 'fuse3', 'zstd'],
    write_files: [
      { path: VM_PATHS.env, permissions: '0600', owner: 'root:root', content: `${env}\n` },
      { path: VM_PATHS.installer, permissions: '0700', owner: 'root:root', content: installer },
      { path: VM_PATHS.unit, permissions: '0644', owner: 'root:root', content: unit },
    ],
    runcmd: [[VM_PATHS.installer], ['systemctl', 'daemon-reload'], ['systemctl', 'enable', '--now', 'plexlift-agent.service']],
  };
  return `#cloud-config\n${stringify(config, { lineWidth: 0 })}`;
}

/** One ExecStart word: quoted when it holds anything systemd would split or expand. */
function systemdQuote(word: string): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  return `"${word.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '$$$$').replace(/%/g, '%%')}"`;
}

/**
 * `KEY='value'`, a `'` inside written `'\''`: the same value for a POSIX shell sourcing the file and
 * for systemd's EnvironmentFile parser (which joins quoted and escaped parts the way sh does).
 */
export function envLine(key: string, value: string): string {
  if (/[\n\r\0]/.test(value)) throw new Error(`${key}: a line break or NUL cannot go into agent.env`);
  return `${key}='${value.replace(/'/g, `'\\''`)}'`;
}
