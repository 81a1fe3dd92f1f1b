import { join } from 'node:path';
import { parseConfig, type Config } from '@plexlift/shared';

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
 * The controller's systemd unit, hardened: nothing on the system is writable but its state
 * (`StateDirectory`), the home Plex data dir and the backups; no new privileges, private /tmp
 * and devices, kernel and cgroups untouchable. It runs as root because the install gives the new
 * files to Plex's own user and stops Plex through systemd or Docker; the `docker` group is added
 * when the home Plex is a container (for an admin who sets `User=`). V8 needs writable and
 * executable memory, so `MemoryDenyWriteExecute` stays off.
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
  const lines = [
    '[Unit]',
    'Description=plexlift controller: Plex indexing on an ephemeral cloud VM, the library brought home safely',
    'Wants=network-online.target',
    `After=network-online.target${docker ? ' docker.service' : ''}`,
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${quote(input.node)} ${quote(input.cli)} serve --config ${quote(input.configPath)}`,
    'ExecReload=/bin/kill -HUP $MAINPID',
    `EnvironmentFile=-${ENV_FILE}`,
    'Restart=on-failure',
    'RestartSec=10',
    // Jobs outlive a restart (agents reconnect); a stop must not wait for them.
    'KillMode=mixed',
    'TimeoutStopSec=60',
    'StateDirectory=plexlift',
    'StateDirectoryMode=0700',
    'ConfigurationDirectory=plexlift',
    ...(writable.length > 0 ? [`ReadWritePaths=${writable.map(quote).join(' ')}`] : []),
    ...(docker ? ['SupplementaryGroups=docker'] : []),
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ProtectHome=read-only',
    'PrivateTmp=yes',
    'PrivateDevices=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'RestrictSUIDSGID=yes',
    'RestrictRealtime=yes',
    'LockPersonality=yes',
    'SystemCallArchitectures=native',
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

/** A path as one ExecStart or list word (quoted when it has spaces). */
function quote(path: string): string {
  return /\s/.test(path) ? `"${path}"` : path;
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
