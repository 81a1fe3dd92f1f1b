import { execFile } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '@plexlift/shared';
import { renderControllerUnit } from '../../packages/controller/src/service/systemd-unit.js';
import { createTempDir } from '../utils/temp-dir.js';

async function analyze(args: string[]): Promise<{ status: number; said: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)('systemd-analyze', args);
    return { status: 0, said: `${stdout}${stderr}`.trim() };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { status: e.code ?? 1, said: `${e.stdout ?? ''}${e.stderr ?? ''}`.trim() };
  }
}

/** The overall exposure `systemd-analyze security --offline=true` gives a unit file (0 best, 10 worst). */
async function exposure(unitFile: string): Promise<number> {
  const { said } = await analyze(['security', '--offline=true', unitFile]);
  const match = /Overall exposure level for \S+: ([\d.]+)/.exec(said);
  if (!match) throw new Error(`systemd-analyze security said: ${said}`);
  return Number(match[1]);
}

/** Paths with what systemd reads specially in a unit: `%` specifiers, `$` variables, quotes, spaces. */
function oddInstall() {
  const dir = createTempDir();
  const bin = join(dir, 'node 100%q bin'); // %q would be the pretty hostname if not escaped
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  const cli = join(dir, 'plexlift "cli" $HOME 5%n', 'bin.js');
  mkdirSync(join(cli, '..'));
  writeFileSync(cli, '');
  return { dir, node: join(bin, 'node'), cli, plexDataDir: join(dir, 'Plex 100% "Media" Server\\') };
}

function writeUnit(dir: string, unit: string): string {
  const units = join(dir, 'units');
  mkdirSync(units, { recursive: true });
  const file = join(units, 'plexlift-controller.service');
  writeFileSync(file, unit);
  return file;
}

// Issue 16, item 21: the unit is bounded to what plexlift needs, and paths cannot change its meaning.
describe("the controller's systemd unit, hardened", () => {
  it('scores OK (≤ 3.0) in systemd-analyze security, with and without local agents, and keeps CAP_SYS_ADMIN for local agents only', async () => {
    const { dir, node, cli, plexDataDir } = oddInstall();
    const control = { type: 'docker', container: 'plex' };
    for (const local of [false, true]) {
      const config = parseConfig(
        {
          home: { plexDataDir, control, backups: { dir: join(dir, 'backups') } },
          server: { stateDir: join(dir, 'state') },
          ...(local ? { providers: { local: { plexCommand: ['/usr/lib/plexmediaserver/Plex Media Server'] } } } : {}),
        },
        'test',
      );
      const unit = renderControllerUnit({ node, cli, configPath: join(dir, 'config.json'), config });
      const file = writeUnit(join(dir, String(local)), unit);
      expect(await exposure(file), unit).toBeLessThanOrEqual(3.0);
      const capabilities = /^CapabilityBoundingSet=(.*)$/m.exec(unit)![1]!.split(' ');
      expect(capabilities).toEqual(['CAP_CHOWN', 'CAP_FOWNER', 'CAP_DAC_OVERRIDE', 'CAP_KILL', ...(local ? ['CAP_SYS_ADMIN'] : [])]);
      expect(unit).toMatch(/^SystemCallFilter=@system-service/m);
      expect(unit).toMatch(/^RestartPreventExitStatus=3 78$/m); // a damaged store or a bad config is reported, not restarted in a loop
      expect(unit).not.toMatch(/^MemoryDenyWriteExecute=yes$/m); // V8's JIT writes code
    }
  });

  it('escapes paths the systemd way: % doubled, quotes and backslashes escaped, $ doubled in arguments; systemd-analyze verify finds the program', async () => {
    const { dir, node, cli, plexDataDir } = oddInstall();
    const config = parseConfig(
      { home: { plexDataDir, control: { type: 'systemd', unit: 'plexmediaserver.service' } }, server: { stateDir: join(dir, 'state') } },
      'test',
    );
    const unit = renderControllerUnit({ node, cli, configPath: join(dir, 'config.json'), config });
    expect(unit).toContain(`ExecStart="${join(dir, 'node 100%%q bin', 'node')}" "${join(dir, 'plexlift \\"cli\\" $$HOME 5%%n', 'bin.js')}" serve`);
    expect(unit).toContain(`ReadWritePaths="${join(dir, 'Plex 100%% \\"Media\\" Server\\\\')}"`);
    // verify resolves the specifiers and checks that the program it would run exists.
    expect(await analyze(['verify', writeUnit(dir, unit)])).toEqual({ status: 0, said: '' });
  });

  it('refuses what no escaping can carry: a line break in a path, quotes in the program path', () => {
    const config = (plexDataDir: string) => parseConfig({ home: { plexDataDir, control: { type: 'systemd', unit: 'plex.service' } } }, 'test');
    const render = (node: string, plexDataDir: string) => () =>
      renderControllerUnit({ node, cli: '/opt/plexlift/bin.js', configPath: '/etc/plexlift/config.json', config: config(plexDataDir) });
    expect(render('/usr/bin/node', '/srv/plex\nExecStartPre=/bin/sh -c id')).toThrow(/line break/);
    expect(render('/opt/"node"/bin/node', '/srv/plex')).toThrow(/systemd refuses to run a program whose path holds quotes/);
  });
});
