import { join } from 'node:path';
import { parseConfig, PlexliftError, type Config } from '@plexlift/shared';

export const UNIT_NAME = 'plexlift-controller.service';
export const ENV_FILE = '/etc/plexlift/plexlift.env';

export interface UnitInput {
  /** The Node that runs the CLI, and the CLI's entry point. */
  node: string;
  cli: string;
  configPath: string;
  config: Config;
}

/**
 * The controller's systemd unit, hardened (`systemd-analyze security` ≤ 3.0; systemd/README.md
 * says why each remaining exposure is needed): nothing on the system is writable but its state
 * (`StateDirectory`), the home Plex data dir and the backups; no new privileges, private /tmp and
 * devices, kernel, clock, cgroups and /proc of others untouchable, system calls and namespaces
 * filtered. It runs as root because the install gives the new files to Plex's own user and stops
 * Plex through systemd or Docker, but keeps only the capabilities that needs: chown and mode
 * changes on Plex's files, reading and writing a folder Plex owns, signalling Plex (a `command`
 * control). The `local` provider (agents on this machine: their own mount namespace and FUSE
 * mounts) also needs CAP_SYS_ADMIN and the mount calls, and gets them only when it is configured.
 * V8's JIT needs writable and executable memory, so `MemoryDenyWriteExecute` stays off.
 */
export function renderControllerUnit(input: UnitInput): string {
  const { config } = input;
  const writable = [
    ...(config.home ? [config.home.plexDataDir] : []),
    ...(config.home?.backups.dir ? [config.home.backups.dir] : []),
    // The state dir when it is not systemd's own /var/lib/plexlift.
    ...(config.server.stateDir !== '/var/lib/plexlift' ? [config.server.stateDir] : []),
  ];
  const docker = config.home?.control.type === 'docker';
  const localAgents = config.providers.local !== undefined;
  const capabilities = ['CAP_CHOWN', 'CAP_FOWNER', 'CAP_DAC_OVERRIDE', 'CAP_KILL', ...(localAgents ? ['CAP_SYS_ADMIN'] : [])];
  const lines = [
    '[Unit]',
    'Description=plexlift controller: Plex indexing on an ephemeral cloud VM, the library brought home safely',
    'Wants=network-online.target',
    `After=network-online.target${docker ? ' docker.service' : ''}`,
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${executableWord(input.node)} ${argumentWord(input.cli)} serve --config ${argumentWord(input.configPath)}`,
    'ExecReload=/bin/kill -HUP $MAINPID',
    `EnvironmentFile=-${ENV_FILE}`,
    'Restart=on-failure',
    'RestartSec=10',
    // 3: the job store is damaged; 78: the config is wrong. Restarting cannot help: say so and stop.
    'RestartPreventExitStatus=3 78',
    // Jobs outlive a restart (agents reconnect); a stop must not wait for them.
    'KillMode=mixed',
    'TimeoutStopSec=60',
    'StateDirectory=plexlift',
    'StateDirectoryMode=0700',
    'ConfigurationDirectory=plexlift',
    // The config holds tokens: /etc/plexlift is root's only, as `plexlift config set` makes it.
    'ConfigurationDirectoryMode=0700',
    ...(writable.length > 0 ? [`ReadWritePaths=${writable.map(listWord).join(' ')}`] : []),
    ...(docker ? ['SupplementaryGroups=docker'] : []),
    `CapabilityBoundingSet=${capabilities.join(' ')}`,
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ProtectHome=read-only',
    'PrivateTmp=yes',
    'PrivateDevices=yes',
    'PrivateMounts=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'ProtectProc=invisible',
    'RestrictSUIDSGID=yes',
    'RestrictRealtime=yes',
    `RestrictNamespaces=${localAgents ? 'mnt' : 'yes'}`,
    'LockPersonality=yes',
    'SystemCallArchitectures=native',
    `SystemCallFilter=@system-service${localAgents ? ' @mount' : ''}`,
    'SystemCallErrorNumber=EPERM',
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6',
    'UMask=0077',
    // Logs go to the journal: journalctl -u plexlift-controller
    'StandardOutput=journal',
    'StandardError=journal',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ];
  return lines.join('\n');
}

/** The environment file example: what can be set outside the config (secrets best of all). */
export function renderEnvironmentExample(): string {
  return [
    '# plexlift controller environment (read by plexlift-controller.service; keep it 0600).',
    '# Scaleway credentials, instead of putting them in the config:',
    '#SCW_ACCESS_KEY=SCWXXXXXXXXXXXXXXXXX',
    '#SCW_SECRET_KEY=00000000-0000-0000-0000-000000000000',
    '#SCW_DEFAULT_PROJECT_ID=00000000-0000-0000-0000-000000000000',
    '# Where the home Docker engine listens, when not /var/run/docker.sock:',
    '#DOCKER_SOCKET=/var/run/docker.sock',
    '# Another config file than /etc/plexlift/config.json:',
    '#PLEXLIFT_CONFIG=/etc/plexlift/config.json',
    '',
  ].join('\n');
}

/** Where the unit goes. */
export function unitPath(unitDir = '/etc/systemd/system'): string {
  return join(unitDir, UNIT_NAME);
}

/**
 * A path as one word of a unit file (systemd.syntax(7), systemd.unit(7) "Specifiers"): `%` doubled
 * (else a specifier), and, when it holds anything but plain characters, double-quoted with `\\`
 * and `"` escaped. A line break cannot be written in a unit at all.
 */
function listWord(path: string): string {
  if (/\p{Cc}/u.test(path)) {
    throw new PlexliftError('PATH_INVALID', `${JSON.stringify(path)}: a path with a line break or control character cannot go into a systemd unit`, {
      details: { path },
    });
  }
  const escaped = path.replace(/%/g, '%%');
  return /^[\w/.+:@,=%-]+$/.test(escaped) ? escaped : `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A path as an ExecStart argument: a list word with `$` doubled too (arguments expand variables). */
function argumentWord(path: string): string {
  return listWord(path.replace(/\$/g, '$$$$'));
}

/** The program ExecStart runs: systemd expands nothing in it and refuses one with quotes or backslashes. */
function executableWord(path: string): string {
  if (/["'\\]/.test(path)) {
    throw new PlexliftError('PATH_INVALID', `${path}: systemd refuses to run a program whose path holds quotes or backslashes; install Node elsewhere`, {
      details: { path },
    });
  }
  return listWord(path);
}

/** What the committed `systemd/plexlift-controller.service` is rendered from (the README's manual steps). */
export const EXAMPLE_UNIT_INPUT: UnitInput = {
  node: '/usr/bin/node',
  cli: '/usr/local/lib/plexlift/packages/controller/dist/cli/bin.js',
  configPath: '/etc/plexlift/config.json',
  config: parseConfig(
    {
      home: {
        plexDataDir: '/var/lib/plexmediaserver/Library/Application Support/Plex Media Server',
        control: { type: 'systemd', unit: 'plexmediaserver.service' },
      },
    },
    'the example unit',
  ),
};
