import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_UNIT_INPUT, renderControllerUnit, renderEnvironmentExample } from '../../packages/controller/src/service/systemd-unit.js';
import { runCli } from '../utils/run-cli.js';
import { createTempDir } from '../utils/temp-dir.js';

const REPO = new URL('../../', import.meta.url);

/** `systemd-analyze verify`: its exit status and everything it says (warnings included). */
async function verify(unit: string): Promise<{ status: number; said: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)('systemd-analyze', ['verify', unit]);
    return { status: 0, said: (stdout + stderr).trim() };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { status: e.code ?? 1, said: `${e.stdout ?? ''}${e.stderr ?? ''}`.trim() };
  }
}

describe("the controller's systemd service", () => {
  it('plexlift service install writes a hardened unit for this config that systemd-analyze verify accepts, and an environment file 0600; uninstall removes it', async () => {
    const dir = createTempDir();
    const plexData = join(dir, 'Plex Media Server');
    const configPath = join(dir, 'config.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        home: { plexDataDir: plexData, control: { type: 'docker', container: 'plex' }, backups: { dir: join(dir, 'backups') } },
        server: { stateDir: join(dir, 'state') },
      }),
    );
    const dry = await runCli(['service', 'install', '--dry-run', '--config', configPath]);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^ExecStart=\S+node \S+\/packages\/controller\/dist\/cli\/bin\.js serve --config \S+config\.json$/m);
    expect(dry.stdout).toContain(`ReadWritePaths="${plexData}" ${join(dir, 'backups')} ${join(dir, 'state')}`);
    expect(dry.stdout).toMatch(/^SupplementaryGroups=docker$/m);
    for (const line of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'StateDirectory=plexlift', 'Restart=on-failure', 'StandardOutput=journal'])
      expect(dry.stdout).toContain(line);
    expect(existsSync(join(dir, 'units'))).toBe(false);

    const units = join(dir, 'units');
    const envFile = join(dir, 'etc', 'plexlift.env');
    const install = await runCli(['service', 'install', '--unit-dir', units, '--environment-file', envFile, '--no-start', '--config', configPath]);
    expect(install.status, install.stderr).toBe(0);
    const unit = join(units, 'plexlift-controller.service');
    expect(await verify(unit)).toEqual({ status: 0, said: '' });
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(envFile, 'utf8')).toBe(renderEnvironmentExample());
    // A unit systemd would reject is caught by the same check (the check is live).
    writeFileSync(join(units, 'broken.service'), readFileSync(unit, 'utf8').replace('ProtectSystem=strict', 'ProtectSystem=everything'));
    expect((await verify(join(units, 'broken.service'))).said).toMatch(/Failed to parse protect system value/);

    const uninstall = await runCli(['service', 'uninstall', '--unit-dir', units, '--no-start']);
    expect(uninstall).toMatchObject({ status: 0, stdout: expect.stringMatching(/the config, the state folder and the backups are kept/) });
    expect(existsSync(unit)).toBe(false);
    expect((await runCli(['service', 'uninstall', '--unit-dir', units, '--no-start'])).stderr).toMatch(/no plexlift service installed there/);
  });

  it('the committed systemd/ files are what plexlift service install renders for a stock Debian install', () => {
    expect(readFileSync(new URL('systemd/plexlift-controller.service', REPO), 'utf8')).toBe(renderControllerUnit(EXAMPLE_UNIT_INPUT));
    expect(readFileSync(new URL('systemd/plexlift.env.example', REPO), 'utf8')).toBe(renderEnvironmentExample());
  });
});
