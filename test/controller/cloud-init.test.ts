import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '@plexlift/shared';
import { renderCloudInit, VM_PATHS, type AgentCloudInit } from '../../packages/controller/src/providers/cloud-init.js';
import { ensureCertificate } from '../../packages/controller/src/server/tls-certificate.js';
import { createTempDir } from '../utils/temp-dir.js';

interface CloudConfig {
  packages: string[];
  write_files: { path: string; permissions: string; content: string }[];
  runcmd: string[][];
}

const input: AgentCloudInit = {
  jobId: 'job-2026-11-21-abcdef',
  controllerUrl: 'https://203.0.113.7:7878',
  fingerprint: Array.from({ length: 32 }, () => 'AB').join(':'),
  publicKeyPin: 'cGlubmVkLWtleQ==',
  bootstrapToken: 'plx_b_0123456789abcdef',
  plexCommand: ['/usr/lib/plexmediaserver/Plex Media Server', '--flag=$HOME 100%'],
};

const file = (config: CloudConfig, path: string) => config.write_files.find((f) => f.path === path)!;

/** What systemd makes of an ExecStart line: its words, unquoted (the rules of systemd.service(5) we use). */
function execStartWords(line: string): string[] {
  const words: string[] = [];
  for (const match of line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) {
    words.push(match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1').replace(/\$\$/g, '$').replace(/%%/g, '%') : match[2]!);
  }
  return words;
}

describe('the VM user data (cloud-init)', () => {
  it("passes cloud-init's own schema validator; a broken one does not (the validator is live)", async () => {
    const dir = createTempDir();
    writeFileSync(join(dir, 'good.yaml'), renderCloudInit(input));
    writeFileSync(join(dir, 'docker.yaml'), renderCloudInit({ ...input, plexCommand: undefined }));
    const run = promisify(execFile);
    const good = await run('cloud-init', ['schema', '--config-file', join(dir, 'good.yaml')]);
    expect(good.stdout).toMatch(/Valid cloud-config/);
    expect((await run('cloud-init', ['schema', '--config-file', join(dir, 'docker.yaml')])).stdout).toMatch(/Valid cloud-config/);
    writeFileSync(join(dir, 'bad.yaml'), '#cloud-config\npackages: 5\nwrite_files: [{content: x}]\n');
    await expect(run('cloud-init', ['schema', '--config-file', join(dir, 'bad.yaml')])).rejects.toMatchObject({
      stderr: expect.stringMatching(/Cloud config schema errors: packages: 5 is not of type 'array'/),
    });
  });

  it('holds only the controller address, its certificate pins and the one-time token: no other secret', () => {
    const text = renderCloudInit(input);
    // The secrets a job has at home: none of them may reach the user data.
    const config = parseConfig(
      {
        home: { plexDataDir: '/srv/plex', plexToken: 'home-owner-plex-token', control: { type: 'docker', container: 'plex' } },
        media: { mountPath: '/media', remote: 's3:media', rcloneConfigPath: '/etc/plexlift/rclone.conf' },
        providers: { scaleway: { secretKey: '11111111-2222-4333-8444-555555555555', accessKey: 'SCWABCDEFGHIJKLMNOPQ', plexCommand: ['x'] } },
      },
      'test',
    );
    for (const secret of [
      config.home!.plexToken!,
      config.providers.scaleway!.secretKey!,
      config.providers.scaleway!.accessKey!,
      'plx_a_',
      'plx_s_',
      'PlexOnlineToken',
      'secret_access_key',
    ]) {
      expect(text).not.toContain(secret);
    }
    const values = [...text.matchAll(/^\s+(PLEXLIFT_\w+)=(.*)$/gm)].map((m) => m[1]);
    expect(values).toEqual(['PLEXLIFT_CONTROLLER_URL', 'PLEXLIFT_JOB', 'PLEXLIFT_FINGERPRINT', 'PLEXLIFT_PUBLIC_KEY_PIN', 'PLEXLIFT_AGENT_TOKEN']);
    // The token appears once, in the root-only env file; never on a command line.
    expect(text.split(input.bootstrapToken)).toHaveLength(2);
    const parsed = parse(text) as CloudConfig;
    expect(file(parsed, VM_PATHS.env)).toMatchObject({
      permissions: '0600',
      content: expect.stringContaining(`PLEXLIFT_AGENT_TOKEN='${input.bootstrapToken}'`),
    });
  });

  it('installs what the agent needs from the distribution, then the agent from the controller, then starts its unit (what the double cannot run)', () => {
    const parsed = parse(renderCloudInit(input)) as CloudConfig;
    expect(parsed.packages).toEqual(expect.arrayContaining(['docker.io', 'rclone', 'fuse3', 'zstd', 'curl', 'ca-certificates']));
    expect(parsed.runcmd).toEqual([[VM_PATHS.installer], ['systemctl', 'daemon-reload'], ['systemctl', 'enable', '--now', 'plexlift-agent.service']]);
    const unit = file(parsed, VM_PATHS.unit).content;
    expect(unit).toMatch(/^EnvironmentFile=\/etc\/plexlift\/agent\.env$/m);
    expect(unit).toMatch(/^Restart=on-abnormal$/m);
    const words = execStartWords(/^ExecStart=(.*)$/m.exec(unit)![1]!);
    expect(words.slice(0, 2)).toEqual([`${VM_PATHS.agentDir}/bin/node`, `${VM_PATHS.agentDir}/agent/main.mjs`]);
    const flag = (name: string) => words[words.indexOf(name) + 1];
    expect(flag('--controller')).toBe('wss://203.0.113.7:7878');
    expect(flag('--job')).toBe(input.jobId);
    expect(flag('--fingerprint')).toBe(input.fingerprint);
    // Quoting survives systemd: spaces, $ and % come through as written.
    expect(JSON.parse(flag('--plex-command')!)).toEqual(input.plexCommand);
    expect(words).not.toContain(input.bootstrapToken);
    // Without a Plex command: the official image in the VM's Docker, which the unit then requires.
    const docker = parse(renderCloudInit({ ...input, plexCommand: undefined })) as CloudConfig;
    const dockerUnit = file(docker, VM_PATHS.unit).content;
    expect(dockerUnit).toMatch(/^Requires=docker\.service$/m);
    const dockerWords = execStartWords(/^ExecStart=(.*)$/m.exec(dockerUnit)![1]!);
    expect(dockerWords[dockerWords.indexOf('--plex-runtime') + 1]).toBe('docker');
    expect(dockerWords).not.toContain('--plex-command');
    expect(file(parsed, VM_PATHS.installer).content).not.toMatch(/Bearer \$PLEXLIFT_AGENT_TOKEN"? *\\?\n.*curl/);
  });

  it('the installer fetches the agent with curl over TLS pinned to the controller key; another key gets nothing, not even the token', async () => {
    const state = createTempDir();
    const certificate = await ensureCertificate(parseConfig({ server: { stateDir: state } }, 'test'));
    const impostor = await ensureCertificate(parseConfig({ server: { stateDir: createTempDir() } }, 'test'));
    // A bundle: what the controller serves (a tar.gz unpacked into /opt/plexlift).
    const bundleDir = createTempDir();
    mkdirSync(join(bundleDir, 'agent'), { recursive: true });
    writeFileSync(join(bundleDir, 'agent', 'main.mjs'), 'console.log("agent")\n');
    const bundle = execFileSync('tar', ['-czf', '-', '-C', bundleDir, 'agent']);
    const seen: string[] = [];
    const server = createServer({ cert: certificate.cert, key: certificate.key }, (req, res) => {
      seen.push(`${req.url ?? ''} ${req.headers.authorization ?? ''}`);
      res.writeHead(200, { 'Content-Type': 'application/gzip' });
      res.end(bundle);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const boot = (publicKeyPin: string) => {
      const root = createTempDir('vm-');
      const parsed = parse(renderCloudInit({ ...input, controllerUrl: url, publicKeyPin })) as CloudConfig;
      for (const entry of parsed.write_files) {
        mkdirSync(join(root, entry.path, '..'), { recursive: true });
        writeFileSync(join(root, entry.path), entry.content, { mode: Number.parseInt(entry.permissions, 8) });
      }
      const result = promisify(execFile)('sh', [join(root, VM_PATHS.installer)], { env: { ...process.env, PLEXLIFT_ROOT: root } });
      return { root, result };
    };

    const right = boot(certificate.publicKeyPin);
    await right.result;
    expect(readFileSync(join(right.root, VM_PATHS.agentDir, 'agent', 'main.mjs'), 'utf8')).toContain('agent');
    expect(seen).toEqual([`/agent/bundle?arch=${execFileSync('uname', ['-m']).toString().trim()} Bearer ${input.bootstrapToken}`]);
    // The header file with the token does not outlive the download.
    expect(existsSync(join(right.root, 'run', 'plexlift-agent.headers'))).toBe(false);
    expect(statSync(join(right.root, VM_PATHS.env)).mode & 0o777).toBe(0o600);

    seen.length = 0;
    const wrong = boot(impostor.publicKeyPin);
    await expect(wrong.result).rejects.toMatchObject({ stderr: expect.stringMatching(/SSL: public key does not match pinned public key|pinned/i) });
    expect(seen).toEqual([]);
    expect(existsSync(join(wrong.root, VM_PATHS.agentDir, 'agent'))).toBe(false);
  }, 120_000);
});
