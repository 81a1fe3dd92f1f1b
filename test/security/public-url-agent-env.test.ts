import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '@plexlift/shared';
import { renderCloudInit, VM_PATHS } from '../../packages/controller/src/providers/cloud-init.js';
import { environmentFileValue } from '../scaleway-sim/vm-boot.js';
import { createTempDir } from '../utils/temp-dir.js';

const withPublicUrl = (publicUrl: string) => () => parseConfig({ server: { publicUrl } }, 'test');

// server.publicUrl reaches a root shell on the VM, which sources agent.env (issue 16, item 17).
describe('server.publicUrl and agent.env', () => {
  it('refuses a publicUrl that a shell would read as more than an address, naming the field', () => {
    const marker = join(createTempDir(), 'pwned');
    for (const bad of [
      `https://home.example.net:7878/$(touch ${marker})`,
      'https://home.example.net/`id`',
      "https://home.example.net/'quoted'",
      'https://home.example.net/a b',
      'https://user:secret@home.example.net:7878',
      'https://home.example.net:7878/?x=1',
      'https://home.example.net:7878/#top',
      'ftp://home.example.net',
      'not a url',
    ]) {
      expect(withPublicUrl(bad), bad).toThrow(/server\.publicUrl: /);
    }
    expect(withPublicUrl('https://home.example.net:7878')().server.publicUrl).toBe('https://home.example.net:7878');
    expect(withPublicUrl('http://127.0.0.1:7878/plexlift')().server.publicUrl).toBe('http://127.0.0.1:7878/plexlift');
  });

  it('writes agent.env values single-quoted: a real sh sourcing it gets them back unchanged and runs nothing', () => {
    const dir = createTempDir();
    const marker = join(dir, 'pwned');
    // The renderer is the last line of defence: even a value with quotes and $(…) stays a value.
    const controllerUrl = `https://home.example.net/it's'$(touch ${marker})'\`touch ${marker}\`"$HOME"\\`;
    const userData = renderCloudInit({ jobId: 'job-1', controllerUrl, bootstrapToken: 'plx_b_token', fingerprint: 'ab:cd' });
    const envFile = (parse(userData) as { write_files: { path: string; content: string }[] }).write_files.find((f) => f.path === VM_PATHS.env)!;
    const path = join(dir, 'agent.env');
    writeFileSync(path, envFile.content);

    const sourced = execFileSync('sh', ['-c', '. "$1"; printf "%s\\n%s\\n%s" "$PLEXLIFT_CONTROLLER_URL" "$PLEXLIFT_JOB" "$PLEXLIFT_AGENT_TOKEN"', 'sh', path], {
      encoding: 'utf8',
    });
    expect(sourced.split('\n')).toEqual([controllerUrl, 'job-1', 'plx_b_token']);
    expect(existsSync(marker)).toBe(false);

    // systemd's EnvironmentFile reads the same lines to the same values (the VM double's reader follows systemd.exec(5)).
    const line = envFile.content.split('\n').find((l) => l.startsWith('PLEXLIFT_CONTROLLER_URL='))!;
    expect(environmentFileValue(line.slice('PLEXLIFT_CONTROLLER_URL='.length))).toBe(controllerUrl);
  });
});
